using SkiaSharp;

namespace HomeServer.Gateway.Media;

/// <summary>The spec's thumbnail methods.</summary>
public enum ThumbnailMethod
{
    /// <summary>Fits the image inside the size, keeping its aspect ratio.</summary>
    Scale,

    /// <summary>Fills the size exactly, cutting off what sticks out at the edges.</summary>
    Crop,
}

/// <summary>One thumbnail size this server generates.</summary>
public sealed record ThumbnailSize(int Width, int Height, ThumbnailMethod Method)
{
    /// <summary>The spec's recommended sizes: 32x32 and 96x96 crop; 320x240, 640x480 and 800x600 scale.</summary>
    public static readonly IReadOnlyList<ThumbnailSize> Preferred =
    [
        new(32, 32, ThumbnailMethod.Crop),
        new(96, 96, ThumbnailMethod.Crop),
        new(320, 240, ThumbnailMethod.Scale),
        new(640, 480, ThumbnailMethod.Scale),
        new(800, 600, ThumbnailMethod.Scale),
    ];

    /// <summary>
    /// The size served for a request: of the preferred sizes with the requested method, the smallest at least as
    /// large as asked, or else the largest. Thumbnails are generated only in these sizes, so there are at most five
    /// of each media.
    /// </summary>
    public static ThumbnailSize For(int width, int height, ThumbnailMethod method)
    {
        var sizes = Preferred.Where(s => s.Method == method).ToList();
        return sizes.FirstOrDefault(s => s.Width >= width && s.Height >= height) ?? sizes[^1];
    }
}

/// <summary>A generated thumbnail.</summary>
public sealed record Thumbnail(byte[] Bytes, string ContentType, int Width, int Height);

/// <summary>Why an image could not be thumbnailed.</summary>
public enum ThumbnailRefusal
{
    /// <summary>Not an image this server can decode.</summary>
    NotAnImage,

    /// <summary>More pixels than <see cref="MediaOptions.MaxThumbnailSourcePixels"/>.</summary>
    TooLarge,
}

public sealed class ThumbnailRefusedException(ThumbnailRefusal reason) : Exception(reason.ToString())
{
    public ThumbnailRefusal Reason { get; } = reason;
}

/// <summary>
/// Makes thumbnails with SkiaSharp. The pixel count is checked from the image header before anything is decoded, and
/// JPEG is decoded already scaled down where the codec can, so a large photo never needs its full-size bitmap.
/// Animated images give their first frame. Never enlarges: a small image gives a thumbnail of its own size.
/// </summary>
public static class ThumbnailGenerator
{
    private const int JpegQuality = 80;

    /// <summary>Whether the image at <paramref name="path"/> has more than one frame (an animated GIF, WebP or PNG).</summary>
    public static bool IsAnimated(string path)
    {
        using var stream = File.OpenRead(path);
        using var codec = SKCodec.Create(stream);
        return codec is not null && codec.FrameCount > 1;
    }

    public static Thumbnail Generate(string path, ThumbnailSize size, long maxSourcePixels)
    {
        using var stream = File.OpenRead(path);
        using var codec = SKCodec.Create(stream) ?? throw new ThumbnailRefusedException(ThumbnailRefusal.NotAnImage);
        var source = codec.Info;
        if (source.Width <= 0 || source.Height <= 0) throw new ThumbnailRefusedException(ThumbnailRefusal.NotAnImage);
        if ((long)source.Width * source.Height > maxSourcePixels) throw new ThumbnailRefusedException(ThumbnailRefusal.TooLarge);

        var (region, outWidth, outHeight) = Layout(source.Width, source.Height, size);
        using var decoded = Decode(codec, (double)outWidth / region.Width);
        // The region in the coordinates of the (possibly scaled-down) decoded bitmap.
        var scaleX = (float)decoded.Width / source.Width;
        var scaleY = (float)decoded.Height / source.Height;
        var decodedRegion = new SKRect(region.Left * scaleX, region.Top * scaleY, region.Right * scaleX, region.Bottom * scaleY);

        var opaque = codec.EncodedFormat == SKEncodedImageFormat.Jpeg;
        var info = new SKImageInfo(outWidth, outHeight, SKColorType.Rgba8888, opaque ? SKAlphaType.Opaque : SKAlphaType.Premul);
        using var surface = SKSurface.Create(info) ?? throw new ThumbnailRefusedException(ThumbnailRefusal.TooLarge);
        using (var image = SKImage.FromBitmap(decoded))
        {
            surface.Canvas.Clear(SKColors.Transparent);
            surface.Canvas.DrawImage(image, decodedRegion, new SKRect(0, 0, outWidth, outHeight), new SKSamplingOptions(SKCubicResampler.Mitchell), null);
        }
        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(opaque ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, JpegQuality);
        return new Thumbnail(data.ToArray(), opaque ? "image/jpeg" : "image/png", outWidth, outHeight);
    }

    /// <summary>Which part of the source is drawn (all of it for scale, the centred part of the target's shape for crop) and at which size.</summary>
    internal static (SKRectI Region, int Width, int Height) Layout(int sourceWidth, int sourceHeight, ThumbnailSize size)
    {
        if (size.Method == ThumbnailMethod.Scale)
        {
            var factor = Math.Min(1.0, Math.Min((double)size.Width / sourceWidth, (double)size.Height / sourceHeight));
            return (new SKRectI(0, 0, sourceWidth, sourceHeight),
                Math.Max(1, (int)Math.Round(sourceWidth * factor)), Math.Max(1, (int)Math.Round(sourceHeight * factor)));
        }
        // Crop: the largest centred region with the target's aspect ratio, then scaled to the target (never enlarged).
        var targetRatio = (double)size.Width / size.Height;
        int regionWidth = sourceWidth, regionHeight = sourceHeight;
        if ((double)sourceWidth / sourceHeight > targetRatio) regionWidth = Math.Max(1, (int)Math.Round(sourceHeight * targetRatio));
        else regionHeight = Math.Max(1, (int)Math.Round(sourceWidth / targetRatio));
        var left = (sourceWidth - regionWidth) / 2;
        var top = (sourceHeight - regionHeight) / 2;
        var shrink = Math.Min(1.0, (double)size.Width / regionWidth);
        return (new SKRectI(left, top, left + regionWidth, top + regionHeight),
            Math.Max(1, (int)Math.Round(regionWidth * shrink)), Math.Max(1, (int)Math.Round(regionHeight * shrink)));
    }

    // Decodes the first frame, scaled down by the codec when it supports that (JPEG) and the result is still large enough.
    private static SKBitmap Decode(SKCodec codec, double scale)
    {
        var full = codec.Info;
        var scaled = scale < 1 ? codec.GetScaledDimensions((float)scale) : full.Size;
        if (scaled.Width < full.Width * scale || scaled.Height < full.Height * scale) scaled = full.Size;
        var info = new SKImageInfo(scaled.Width, scaled.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels(), new SKCodecOptions(0));
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
        {
            bitmap.Dispose();
            throw new ThumbnailRefusedException(ThumbnailRefusal.NotAnImage);
        }
        return bitmap;
    }
}
