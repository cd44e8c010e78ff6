using Storage.StateMachine;
using static Storage.Grains.Tests.StateMachine.Commands;

namespace Storage.Grains.Tests.StateMachine;

public class SplitCommandCodecTests
{
    private static readonly SplitCommand Sample = new(0x4000_0000_0000_0000, 0x7fff_ffff_ffff_ffff, 0x5555_0000_0000_0001, 9, 42, [1, 2, 3], [301, 302, 303]);

    [Fact]
    public void Round_trips_and_is_told_apart_from_client_writes()
    {
        var encoded = KvCommandCodec.EncodeSplit(Sample);

        Assert.True(KvCommandCodec.IsSplit(encoded));
        Assert.Equal(Sample, KvCommandCodec.DecodeSplit(encoded));
        Assert.False(KvCommandCodec.IsSplit(KvCommandCodec.Encode(Put(ClientA, 1, "k", "v"))));
    }

    [Fact]
    public void The_write_path_decoder_refuses_a_split()
    {
        var e = Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(KvCommandCodec.EncodeSplit(Sample)));
        Assert.Contains("not a client write", e.Message);
        Assert.Throws<BinaryFormatException>(() => KvCommandCodec.DecodeSplit(KvCommandCodec.Encode(Put(ClientA, 1, "k", "v"))));
    }

    [Fact]
    public void Every_flipped_bit_and_every_truncation_is_rejected()
    {
        var encoded = KvCommandCodec.EncodeSplit(Sample);
        for (var i = 0; i < encoded.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var copy = (byte[])encoded.Clone();
                copy[i] ^= (byte)(1 << bit);
                Assert.Throws<BinaryFormatException>(() => KvCommandCodec.DecodeSplit(copy));
            }

            Assert.Throws<BinaryFormatException>(() => KvCommandCodec.DecodeSplit(encoded.AsSpan(0, i)));
        }
    }
}
