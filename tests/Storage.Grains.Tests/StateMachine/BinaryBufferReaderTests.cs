using Storage.StateMachine;

namespace Storage.Grains.Tests.StateMachine;

/// <summary>The shared reader refuses counts and lengths that the remaining bytes cannot hold.</summary>
public class BinaryBufferReaderTests
{
    [Fact]
    public void A_huge_varint_string_length_is_refused_without_allocating_for_it()
    {
        // Varint 2^31 - 1 (five bytes) announcing a string, followed by three bytes.
        byte[] hostile = [0xFF, 0xFF, 0xFF, 0xFF, 0x07, (byte)'a', (byte)'b', (byte)'c'];
        Assert.Throws<BinaryFormatException>(() => new BinaryBufferReader(hostile, "test").ReadString("key"));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<BinaryFormatException>(() => new BinaryBufferReader(hostile, "test").ReadString("key"));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("exceeds", e.Message);
        Assert.True(allocated < 64 * 1024, $"refusing allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(-1, 1, "negative")]
    [InlineData(int.MinValue, 1, "negative")]
    [InlineData(5, 1, "exceeds")]       // 4 bytes follow
    [InlineData(1, 8, "exceeds")]       // one 8-byte item does not fit in 4
    public void A_fixed_width_length_must_fit_what_is_left(int length, int minBytesPerItem, string problem)
    {
        var buffer = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(buffer, length);
        var e = Assert.Throws<BinaryFormatException>(() => new BinaryBufferReader(buffer, "test").ReadInt32Length("count", minBytesPerItem));
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void A_fixed_width_length_that_fits_is_returned()
    {
        byte[] buffer = [4, 0, 0, 0, 1, 2, 3, 4];
        var reader = new BinaryBufferReader(buffer, "test");
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, reader.ReadInt32LengthPrefixed("data").ToArray());
        reader.EnsureEnd();
    }
}
