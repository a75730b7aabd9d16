using SkiaSharp;

namespace AvatarKit.Testing;

/// <summary>
/// Finds a typeface for the avatar's caption. The dependency-free Linux build of SkiaSharp has no
/// font lookup, so its default typeface draws nothing: load a common font file instead.
/// </summary>
internal static class CaptionTypeface
{
    private static readonly string[] Candidates =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "/Library/Fonts/Arial.ttf",
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.Fonts), "arial.ttf"),
    ];

    public static SKTypeface Load()
    {
        foreach (var path in Candidates)
        {
            if (File.Exists(path) && SKTypeface.FromFile(path) is { } typeface)
            {
                return typeface;
            }
        }

        return SKTypeface.CreateDefault();
    }
}
