using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Issuer2.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class EventFeed : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "profile_id",
                table: "events",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "event_retention",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    transaction_id = table.Column<long>(type: "INTEGER", nullable: false),
                    sequence = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_event_retention", x => x.id);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "event_retention");

            migrationBuilder.DropColumn(
                name: "profile_id",
                table: "events");
        }
    }
}
