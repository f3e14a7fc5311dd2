using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Issuer2.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SessionRetention : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_issuance_sessions_created_at",
                table: "issuance_sessions",
                column: "created_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_issuance_sessions_created_at",
                table: "issuance_sessions");
        }
    }
}
