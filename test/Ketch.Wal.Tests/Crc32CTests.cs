using System.Text;
using Xunit;

namespace Ketch.Wal.Tests;

public sealed class Crc32CTests
{
    [Theory]
    // RFC 3720 appendix B.4 and the usual check value of CRC-32C.
    [InlineData("123456789", 0xE3069283u)]
    [InlineData("", 0u)]
    [InlineData("a", 0xC1D04330u)]
    public void KnownValues(string text, uint crc)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        Assert.Equal(crc, Crc32C.Compute(bytes));
        Assert.Equal(crc, Crc32C.ComputeSoftware(bytes));
    }

    [Fact]
    public void ThirtyTwoZeroBytes()
    {
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
    }

    [Fact]
    public void HardwareAndTableAgreeAndAppendChains()
    {
        var rng = new Random(7);
        for (var n = 0; n < 300; n++)
        {
            var data = new byte[n];
            rng.NextBytes(data);
            var crc = Crc32C.ComputeSoftware(data);
            Assert.Equal(crc, Crc32C.Compute(data));
            var cut = n / 3;
            Assert.Equal(crc, Crc32C.Append(Crc32C.Compute(data.AsSpan(0, cut)), data.AsSpan(cut)));
        }
    }
}
