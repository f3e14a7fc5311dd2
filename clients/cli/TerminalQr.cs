using System.Text;
using QRCoder;

namespace Issuer2.Cli;

/// <summary>
/// A QR code drawn with Unicode half blocks, two modules per character row, with the standard four-module quiet zone.
/// By default light modules are drawn (the glyphs' colour) and dark ones left blank, which reads right on the usual
/// dark terminal; <c>--qr-invert</c> swaps them for light terminals.
/// </summary>
internal static class TerminalQr
{
    public static string Render(string text, bool invert)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        var matrix = data.ModuleMatrix; // includes the quiet zone
        var size = matrix.Count;
        var builder = new StringBuilder();
        for (var row = 0; row < size; row += 2)
        {
            for (var col = 0; col < size; col++)
            {
                // Drawn = the glyph's colour shows: light modules normally, dark ones when inverted.
                var top = matrix[row][col] == invert;
                // Past the last row is quiet zone, which is light.
                var bottom = row + 1 < size ? matrix[row + 1][col] == invert : !invert;
                builder.Append((top, bottom) switch
                {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    _ => ' ',
                });
            }

            builder.Append('\n');
        }

        return builder.ToString();
    }
}
