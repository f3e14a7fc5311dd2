using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Issuer2.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class WalletFlow : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "issued_count",
                table: "offers",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "resolution_count",
                table: "offers",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "access_tokens",
                columns: table => new
                {
                    token_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    session_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_access_tokens", x => x.token_hash);
                });

            migrationBuilder.CreateTable(
                name: "consumed_nonces",
                columns: table => new
                {
                    nonce_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_consumed_nonces", x => x.nonce_hash);
                });

            migrationBuilder.CreateTable(
                name: "issuance_sessions",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    offer_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    configuration_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    profile_uid = table.Column<Guid>(type: "uuid", nullable: false),
                    profile_version = table.Column<int>(type: "integer", nullable: false),
                    credential_identifier = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_issuance_sessions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "issued_credentials",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    session_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    offer_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    configuration_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    format = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    holder_key_thumbprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    issued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    notification_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    notification_event = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    notified_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_issued_credentials", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_access_tokens_expires_at",
                table: "access_tokens",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "IX_consumed_nonces_expires_at",
                table: "consumed_nonces",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "IX_issuance_sessions_offer_id",
                table: "issuance_sessions",
                column: "offer_id");

            migrationBuilder.CreateIndex(
                name: "IX_issued_credentials_notification_id",
                table: "issued_credentials",
                column: "notification_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_issued_credentials_tenant_id_issued_at",
                table: "issued_credentials",
                columns: new[] { "tenant_id", "issued_at" });

            migrationBuilder.CreateIndex(
                name: "ux_issued_credentials_session_configuration",
                table: "issued_credentials",
                columns: new[] { "session_id", "configuration_id" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "access_tokens");

            migrationBuilder.DropTable(
                name: "consumed_nonces");

            migrationBuilder.DropTable(
                name: "issuance_sessions");

            migrationBuilder.DropTable(
                name: "issued_credentials");

            migrationBuilder.DropColumn(
                name: "issued_count",
                table: "offers");

            migrationBuilder.DropColumn(
                name: "resolution_count",
                table: "offers");
        }
    }
}
