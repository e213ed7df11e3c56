using System.Globalization;

namespace Ketch.Wal;

/// <summary>A segment file name: <c>{sequence:x16}-{firstIndex:x16}.wal</c>, both 16 lower-case
/// hex digits, so names sort in sequence order.</summary>
/// <param name="Sequence">The segment's number, from 1, without gaps.</param>
/// <param name="FirstIndex">The index of the first entry expected in it (the last index at the cut, plus one).</param>
internal readonly record struct SegmentName(ulong Sequence, ulong FirstIndex)
{
    public const string Extension = ".wal";

    public override string ToString() => $"{Sequence:x16}-{FirstIndex:x16}{Extension}";

    public static bool TryParse(string fileName, out SegmentName name)
    {
        name = default;
        if (fileName.Length != 33 + Extension.Length || !fileName.EndsWith(Extension, StringComparison.Ordinal) || fileName[16] != '-')
        {
            return false;
        }
        if (!ulong.TryParse(fileName.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var seq)
            || !ulong.TryParse(fileName.AsSpan(17, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var first))
        {
            return false;
        }
        name = new SegmentName(seq, first);
        return true;
    }
}
