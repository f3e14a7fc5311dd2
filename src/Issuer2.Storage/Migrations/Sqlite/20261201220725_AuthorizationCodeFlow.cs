using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Issuer2.Storage.Migrations.Sqlite
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
                type: "TEXT",
                nullable: false,
                defaultValue: "{\"clientMode\":\"any\",\"registeredClients\":[],\"requirePushedAuthorizationRequests\":true,\"requireIssuerState\":false}");

            migrationBuilder.AddColumn<string>(
                name: "identity_provider",
                table: "tenants",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "offer_id",
                table: "issued_credentials",
                type: "TEXT",
                maxLength: 32,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 32);

            migrationBuilder.AlterColumn<string>(
                name: "offer_id",
                table: "issuance_sessions",
                type: "TEXT",
                maxLength: 32,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 32);

            migrationBuilder.AddColumn<byte[]>(
                name: "encrypted_claims",
                table: "issuance_sessions",
                type: "BLOB",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "authorizations",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    tenant_id = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    stage = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    client_id = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    redirect_uri = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    state = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    code_challenge = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    configuration_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    profile_uid = table.Column<Guid>(type: "TEXT", nullable: false),
                    profile_version = table.Column<int>(type: "INTEGER", nullable: false),
                    scope = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    uses_authorization_details = table.Column<bool>(type: "INTEGER", nullable: false),
                    offer_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    issuer_state_hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false),
                    request_uri_hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: true),
                    request_uri_expires_at = table.Column<long>(type: "INTEGER", nullable: true),
                    browser_hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: true),
                    provider_state_hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: true),
                    provider_nonce = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    encrypted_provider_verifier = table.Column<byte[]>(type: "BLOB", nullable: true),
                    authenticated_at = table.Column<long>(type: "INTEGER", nullable: true),
                    encrypted_claims = table.Column<byte[]>(type: "BLOB", nullable: true),
                    code_hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: true),
                    code_expires_at = table.Column<long>(type: "INTEGER", nullable: true),
                    redeemed_at = table.Column<long>(type: "INTEGER", nullable: true),
                    session_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_authorizations", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "issuer_states",
                columns: table => new
                {
                    state_hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    tenant_id = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    offer_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    single_use = table.Column<bool>(type: "INTEGER", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false),
                    consumed_at = table.Column<long>(type: "INTEGER", nullable: true)
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
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 32,
                oldNullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "offer_id",
                table: "issuance_sessions",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 32,
                oldNullable: true);
        }
    }
}
