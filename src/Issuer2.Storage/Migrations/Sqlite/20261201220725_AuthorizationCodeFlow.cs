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

            // offer_id becomes nullable (a wallet-initiated session has no offer) and issuance_sessions gains
            // encrypted_claims. SQLite changes nullability only by rebuilding the table; EF would wrap its rebuild in
            // PRAGMA foreign_keys, which cannot run inside a transaction, and so split this migration into parts that
            // an interrupted start could leave half applied. No foreign key involves these two tables, so the rebuild
            // is written here and runs inside the migration's one transaction: all of it or none.
            migrationBuilder.Sql("""
                CREATE TABLE "ef_temp_issued_credentials" (
                    "id" TEXT NOT NULL CONSTRAINT "PK_issued_credentials" PRIMARY KEY,
                    "configuration_id" TEXT NOT NULL,
                    "expires_at" INTEGER NOT NULL,
                    "format" TEXT NOT NULL,
                    "holder_key_thumbprint" TEXT NOT NULL,
                    "issued_at" INTEGER NOT NULL,
                    "notification_event" TEXT NULL,
                    "notification_id" TEXT NOT NULL,
                    "notified_at" INTEGER NULL,
                    "offer_id" TEXT NULL,
                    "session_id" TEXT NOT NULL,
                    "tenant_id" TEXT NOT NULL
                );
                """);
            migrationBuilder.Sql("""
                INSERT INTO "ef_temp_issued_credentials" ("id", "configuration_id", "expires_at", "format", "holder_key_thumbprint", "issued_at", "notification_event", "notification_id", "notified_at", "offer_id", "session_id", "tenant_id")
                SELECT "id", "configuration_id", "expires_at", "format", "holder_key_thumbprint", "issued_at", "notification_event", "notification_id", "notified_at", "offer_id", "session_id", "tenant_id"
                FROM "issued_credentials";
                """);
            migrationBuilder.Sql("""DROP TABLE "issued_credentials";""");
            migrationBuilder.Sql("""ALTER TABLE "ef_temp_issued_credentials" RENAME TO "issued_credentials";""");
            migrationBuilder.Sql("""CREATE UNIQUE INDEX "IX_issued_credentials_notification_id" ON "issued_credentials" ("notification_id");""");
            migrationBuilder.Sql("""CREATE INDEX "IX_issued_credentials_tenant_id_issued_at" ON "issued_credentials" ("tenant_id", "issued_at");""");
            migrationBuilder.Sql("""CREATE UNIQUE INDEX "ux_issued_credentials_session_configuration" ON "issued_credentials" ("session_id", "configuration_id");""");

            migrationBuilder.Sql("""
                CREATE TABLE "ef_temp_issuance_sessions" (
                    "id" TEXT NOT NULL CONSTRAINT "PK_issuance_sessions" PRIMARY KEY,
                    "client_id" TEXT NULL,
                    "completed_at" INTEGER NULL,
                    "configuration_id" TEXT NOT NULL,
                    "created_at" INTEGER NOT NULL,
                    "credential_identifier" TEXT NULL,
                    "encrypted_claims" BLOB NULL,
                    "offer_id" TEXT NULL,
                    "profile_uid" TEXT NOT NULL,
                    "profile_version" INTEGER NOT NULL,
                    "tenant_id" TEXT NOT NULL
                );
                """);
            migrationBuilder.Sql("""
                INSERT INTO "ef_temp_issuance_sessions" ("id", "client_id", "completed_at", "configuration_id", "created_at", "credential_identifier", "offer_id", "profile_uid", "profile_version", "tenant_id")
                SELECT "id", "client_id", "completed_at", "configuration_id", "created_at", "credential_identifier", "offer_id", "profile_uid", "profile_version", "tenant_id"
                FROM "issuance_sessions";
                """);
            migrationBuilder.Sql("""DROP TABLE "issuance_sessions";""");
            migrationBuilder.Sql("""ALTER TABLE "ef_temp_issuance_sessions" RENAME TO "issuance_sessions";""");
            migrationBuilder.Sql("""CREATE INDEX "IX_issuance_sessions_offer_id" ON "issuance_sessions" ("offer_id");""");

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
