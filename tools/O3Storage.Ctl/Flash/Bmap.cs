// Owns: the block map (.bmap, bmaptool's format 1.x/2.x) of an image: its size, block size and the
// ranges of blocks that hold data, each with the SHA-256 of its bytes. Pure: XML text in. A map that
// does not add up (a range past the image, ranges out of order or overlapping, an unknown checksum
// type, a malformed checksum) is refused, so a flash never trusts half a map.
using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace O3Storage.Ctl.Flash;

/// <summary>Blocks [First, Last] (inclusive), and the SHA-256 of their bytes as lowercase hex (null in a map made with --no-checksum).</summary>
public sealed record BmapRange(long First, long Last, string? Sha256)
{
    public long Blocks => Last - First + 1;
}

public sealed record Bmap(long ImageSize, int BlockSize, IReadOnlyList<BmapRange> Ranges)
{
    public long MappedBytes => Ranges.Sum(r => ByteLength(r));

    /// <summary>The bytes a range covers: the last block of the image may be short.</summary>
    public long ByteLength(BmapRange range) => Math.Min((range.Last + 1) * BlockSize, ImageSize) - (range.First * BlockSize);

    /// <exception cref="FormatException">Not a block map this can trust, with what is wrong.</exception>
    public static Bmap Parse(string xml)
    {
        XElement root;
        try
        {
            root = XDocument.Parse(xml).Root ?? throw new FormatException("empty document");
        }
        catch (XmlException e)
        {
            throw new FormatException($"not XML: {e.Message}");
        }

        if (root.Name != "bmap" || root.Attribute("version")?.Value is not { } version || !(version.StartsWith("1.", StringComparison.Ordinal) || version.StartsWith("2.", StringComparison.Ordinal)))
        {
            throw new FormatException("not a bmap of version 1.x or 2.x");
        }

        long imageSize = Number(root, "ImageSize");
        long blockSize = Number(root, "BlockSize");
        long blocksCount = Number(root, "BlocksCount");
        if (blockSize is <= 0 or > (1 << 20) || imageSize <= 0 || blocksCount != (imageSize + blockSize - 1) / blockSize)
        {
            throw new FormatException($"image size {imageSize}, block size {blockSize} and {blocksCount} blocks do not add up");
        }

        string checksumType = root.Element("ChecksumType")?.Value.Trim() ?? (version.StartsWith("1.", StringComparison.Ordinal) ? "sha1" : "sha256");
        if (checksumType != "sha256")
        {
            throw new FormatException($"checksums of type {checksumType}: only sha256 is verified (make the map with bmaptool 3 or later)");
        }

        var ranges = new List<BmapRange>();
        foreach (XElement range in root.Element("BlockMap")?.Elements("Range") ?? throw new FormatException("no BlockMap"))
        {
            string[] bounds = range.Value.Trim().Split('-');
            if (bounds.Length is not (1 or 2) || !long.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out long first)
                || !long.TryParse(bounds[^1], NumberStyles.None, CultureInfo.InvariantCulture, out long last) || last < first)
            {
                throw new FormatException($"range '{range.Value.Trim()}' is not N or N-M");
            }

            if (last >= blocksCount || (ranges.Count > 0 && first <= ranges[^1].Last))
            {
                throw new FormatException($"range {first}-{last} lies past the image or overlaps the one before");
            }

            string? sha = range.Attribute("chksum")?.Value.Trim().ToLowerInvariant();
            if (sha is not null && (sha.Length != 64 || !sha.All(Uri.IsHexDigit)))
            {
                throw new FormatException($"range {first}-{last} has a malformed checksum");
            }

            ranges.Add(new BmapRange(first, last, sha));
        }

        long mapped = ranges.Sum(r => r.Blocks);
        if (root.Element("MappedBlocksCount") is { } count && long.Parse(count.Value.Trim(), CultureInfo.InvariantCulture) != mapped)
        {
            throw new FormatException($"MappedBlocksCount {count.Value.Trim()} is not the {mapped} blocks the ranges hold");
        }

        return new Bmap(imageSize, (int)blockSize, ranges);
    }

    /// <summary>A map of the whole image as one range without a checksum (no .bmap: every block is written).</summary>
    public static Bmap Whole(long imageSize, int blockSize = 4096) =>
        new(imageSize, blockSize, [new BmapRange(0, ((imageSize + blockSize - 1) / blockSize) - 1, null)]);

    private static long Number(XElement root, string name) =>
        long.TryParse(root.Element(name)?.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : throw new FormatException($"no {name}");
}
