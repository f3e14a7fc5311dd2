using Microsoft.Playwright;

namespace Issuer2.Console.Tests.Infrastructure;

/// <summary>
/// Decodes a QR code from a screenshot with jsQR (npm jsqr, an independent decoder), in a blank page of the same browser
/// (outside the console and its Content-Security-Policy).
/// </summary>
public static class QrDecoder
{
    public static async Task<string?> DecodeAsync(IBrowser browser, byte[] png)
    {
        ArgumentNullException.ThrowIfNull(browser);
        var script = Path.Combine(Repo.InteropDirectory, "node_modules", "jsqr", "dist", "jsQR.js");
        if (!File.Exists(script)) throw new InvalidOperationException($"{script} is missing: run `npm ci` in tests/interop (tests/run-all.sh does).");
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.SetContentAsync("<!DOCTYPE html><html><body></body></html>");
        await page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = script });
        return await page.EvaluateAsync<string?>(
            """
            async (dataUrl) => {
              const img = new Image();
              img.src = dataUrl;
              await img.decode();
              const canvas = document.createElement('canvas');
              canvas.width = img.naturalWidth;
              canvas.height = img.naturalHeight;
              const g = canvas.getContext('2d');
              g.drawImage(img, 0, 0);
              const pixels = g.getImageData(0, 0, canvas.width, canvas.height);
              const code = jsQR(pixels.data, canvas.width, canvas.height);
              return code ? code.data : null;
            }
            """,
            "data:image/png;base64," + Convert.ToBase64String(png));
    }
}
