using SkiaSharp;

namespace HomeServer.Server.Tests.Media;

/// <summary>Images made for the tests, and decoding of what the server returns.</summary>
internal static class TestImages
{
    /// <summary>A <paramref name="width"/>×<paramref name="height"/> image: a green band <paramref name="greenWidth"/> wide at the left, blue elsewhere.</summary>
    public static byte[] Banded(int width, int height, int greenWidth, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Blue);
            using var green = new SKPaint { Color = SKColors.Lime };
            canvas.DrawRect(0, 0, greenWidth, height, green);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>
    /// A 1×1 animated GIF of two frames, red then blue (global palette: 0 red, 1 blue; each frame one LZW-coded pixel).
    /// </summary>
    public static byte[] AnimatedGif() =>
    [
        .. "GIF89a"u8, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00,
        0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF,
        0x21, 0xFF, 0x0B, .. "NETSCAPE2.0"u8, 0x03, 0x01, 0x00, 0x00, 0x00,
        0x21, 0xF9, 0x04, 0x00, 0x0A, 0x00, 0x00, 0x00,
        0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00,
        0x21, 0xF9, 0x04, 0x00, 0x0A, 0x00, 0x00, 0x00,
        0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x4C, 0x01, 0x00,
        0x3B,
    ];

    public static SKBitmap Decode(byte[] bytes) => SKBitmap.Decode(bytes) ?? throw new Xunit.Sdk.XunitException("Not a decodable image.");

    public static bool IsGreen(SKColor color) => color.Green > 200 && color.Blue < 60 && color.Red < 60;

    public static bool IsBlue(SKColor color) => color.Blue > 200 && color.Green < 60 && color.Red < 60;
}
