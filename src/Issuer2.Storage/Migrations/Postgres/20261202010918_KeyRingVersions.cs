using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Issuer2.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class KeyRingVersions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}
