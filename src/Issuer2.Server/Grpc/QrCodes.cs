using QRCoder;

namespace Issuer2.Server.Grpc;

/// <summary>Renders an offer URL as a QR code (PNG and SVG) for cross-device journeys.</summary>
public sealed class QrCodes
{
    private const int PixelsPerModule = 8;

    public (byte[] Png, string Svg) Render(string url)
    {
        // Medium error correction survives a scuffed screen; very long URLs fall back to low to fit.
        using var generator = new QRCodeGenerator();
        QRCodeData data;
        try
        {
            data = generator.CreateQrCode(url, QRCodeGenerator.ECCLevel.M);
        }
        catch (QRCoder.Exceptions.DataTooLongException)
        {
            data = generator.CreateQrCode(url, QRCodeGenerator.ECCLevel.L);
        }
        using (data)
        {
            var png = new PngByteQRCode(data).GetGraphic(PixelsPerModule);
            var svg = new SvgQRCode(data).GetGraphic(PixelsPerModule);
            return (png, svg);
        }
    }
}
