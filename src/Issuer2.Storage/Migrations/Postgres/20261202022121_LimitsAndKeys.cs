using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Issuer2.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class LimitsAndKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "event_retention");

            migrationBuilder.AddColumn<string>(
                name: "actor",
                table: "events",
                type: "character varying(160)",
                maxLength: 160,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "event_purge_marks",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    transaction_id = table.Column<long>(type: "bigint", nullable: false),
                    sequence = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_event_purge_marks", x => x.tenant_id);
                });

            migrationBuilder.CreateTable(
                name: "refusal_counters",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    subject = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    event_type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    reason = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    window_start = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    offer_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    session_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    profile_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    refusals = table.Column<long>(type: "bigint", nullable: false),
                    emitted = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_refusal_counters", x => new { x.tenant_id, x.subject, x.event_type, x.reason, x.window_start });
                });

            migrationBuilder.CreateIndex(
                name: "IX_issuance_sessions_created_at",
                table: "issuance_sessions",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "IX_refusal_counters_window_start",
                table: "refusal_counters",
                column: "window_start");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "event_purge_marks");

            migrationBuilder.DropTable(
                name: "refusal_counters");

            migrationBuilder.DropIndex(
                name: "IX_issuance_sessions_created_at",
                table: "issuance_sessions");

            migrationBuilder.DropColumn(
                name: "actor",
                table: "events");

            migrationBuilder.CreateTable(
                name: "event_retention",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    sequence = table.Column<long>(type: "bigint", nullable: false),
                    transaction_id = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_event_retention", x => x.id);
                });
        }
    }
}
