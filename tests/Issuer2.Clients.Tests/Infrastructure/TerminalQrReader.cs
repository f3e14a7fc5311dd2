using ZXing;
using ZXing.Common;
using ZXing.QrCode;

namespace Issuer2.Clients.Tests.Infrastructure;

/// <summary>
/// Reads a QR code drawn with half blocks in a terminal, as a phone would read it off a dark screen: each character is
/// two modules (upper, lower), a drawn half is light, a blank one dark; the picture goes to ZXing's QR decoder.
/// </summary>
public static class TerminalQrReader
{
    private const int Scale = 4;

    public static string? Decode(IReadOnlyList<string> rows)
    {
        var width = rows.Max(r => r.Length);
        var height = rows.Count * 2;
        var pixels = new byte[width * Scale * height * Scale];
        for (var row = 0; row < rows.Count; row++)
        {
            for (var col = 0; col < width; col++)
            {
                var c = col < rows[row].Length ? rows[row][col] : ' ';
                var (top, bottom) = c switch
                {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    _ => (false, false),
                };
                Fill(pixels, width * Scale, col, row * 2, top);
                Fill(pixels, width * Scale, col, (row * 2) + 1, bottom);
            }
        }

        var source = new RGBLuminanceSource(pixels, width * Scale, height * Scale, RGBLuminanceSource.BitmapFormat.Gray8);
        var result = new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(source)), new Dictionary<DecodeHintType, object> { [DecodeHintType.PURE_BARCODE] = true });
        return result?.Text;
    }

    private static void Fill(byte[] pixels, int stride, int moduleX, int moduleY, bool light)
    {
        for (var y = 0; y < Scale; y++)
        {
            for (var x = 0; x < Scale; x++)
            {
                pixels[(((moduleY * Scale) + y) * stride) + (moduleX * Scale) + x] = light ? (byte)255 : (byte)0;
            }
        }
    }
}
