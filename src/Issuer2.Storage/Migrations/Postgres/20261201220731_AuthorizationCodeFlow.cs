using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Issuer2.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AuthorizationCodeFlow : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "authorization_server",
                table: "tenants",
                type: "text",
                nullable: false,
                defaultValue: "{\"clientMode\":\"any\",\"registeredClients\":[],\"requirePushedAuthorizationRequests\":true,\"requireIssuerState\":false}");

            migrationBuilder.AddColumn<string>(
                name: "identity_provider",
                table: "tenants",
                type: "text",
                nullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "offer_id",
                table: "issued_credentials",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "character varying(32)",
                oldMaxLength: 32);

            migrationBuilder.AlterColumn<string>(
                name: "offer_id",
                table: "issuance_sessions",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "character varying(32)",
                oldMaxLength: 32);

            migrationBuilder.AddColumn<byte[]>(
                name: "encrypted_claims",
                table: "issuance_sessions",
                type: "bytea",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "authorizations",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    stage = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    client_id = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    redirect_uri = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    state = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    code_challenge = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    configuration_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    profile_uid = table.Column<Guid>(type: "uuid", nullable: false),
                    profile_version = table.Column<int>(type: "integer", nullable: false),
                    scope = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    uses_authorization_details = table.Column<bool>(type: "boolean", nullable: false),
                    offer_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    issuer_state_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    request_uri_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: true),
                    request_uri_expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    browser_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: true),
                    provider_state_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: true),
                    provider_nonce = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    encrypted_provider_verifier = table.Column<byte[]>(type: "bytea", nullable: true),
                    authenticated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    encrypted_claims = table.Column<byte[]>(type: "bytea", nullable: true),
                    code_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: true),
                    code_expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    redeemed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    session_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_authorizations", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "issuer_states",
                columns: table => new
                {
                    state_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    offer_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    single_use = table.Column<bool>(type: "boolean", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    consumed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_issuer_states", x => x.state_hash);
                });

            migrationBuilder.CreateIndex(
                name: "IX_authorizations_code_hash",
                table: "authorizations",
                column: "code_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_authorizations_expires_at",
                table: "authorizations",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "IX_authorizations_provider_state_hash",
                table: "authorizations",
                column: "provider_state_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_authorizations_request_uri_hash",
                table: "authorizations",
                column: "request_uri_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_issuer_states_expires_at",
                table: "issuer_states",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "IX_issuer_states_offer_id",
                table: "issuer_states",
                column: "offer_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "authorizations");

            migrationBuilder.DropTable(
                name: "issuer_states");

            migrationBuilder.DropColumn(
                name: "authorization_server",
                table: "tenants");

            migrationBuilder.DropColumn(
                name: "identity_provider",
                table: "tenants");

            migrationBuilder.DropColumn(
                name: "encrypted_claims",
                table: "issuance_sessions");

            migrationBuilder.AlterColumn<string>(
                name: "offer_id",
                table: "issued_credentials",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "character varying(32)",
                oldMaxLength: 32,
                oldNullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "offer_id",
                table: "issuance_sessions",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "character varying(32)",
                oldMaxLength: 32,
                oldNullable: true);
        }
    }
}
