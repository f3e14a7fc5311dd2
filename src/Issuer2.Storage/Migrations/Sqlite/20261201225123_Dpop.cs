using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Issuer2.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Dpop : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "dpop",
                table: "tenants",
                type: "TEXT",
                nullable: false,
                defaultValue: "{\"mode\":\"optional\",\"requireNonce\":false}");

            migrationBuilder.AddColumn<string>(
                name: "dpop_jkt",
                table: "authorizations",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "dpop_jkt",
                table: "access_tokens",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "dpop_proofs",
                columns: table => new
                {
                    jti_key = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dpop_proofs", x => x.jti_key);
                });

            migrationBuilder.CreateIndex(
                name: "IX_dpop_proofs_expires_at",
                table: "dpop_proofs",
                column: "expires_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "dpop_proofs");

            migrationBuilder.DropColumn(
                name: "dpop",
                table: "tenants");

            migrationBuilder.DropColumn(
                name: "dpop_jkt",
                table: "authorizations");

            migrationBuilder.DropColumn(
                name: "dpop_jkt",
                table: "access_tokens");
        }
    }
}
