using System.Buffers.Binary;
using System.IO.Hashing;
using Storage.StateMachine;
using static Storage.Grains.Tests.StateMachine.Commands;

namespace Storage.Grains.Tests.StateMachine;

public class KvCommandCodecTests
{
    public static TheoryData<KvCommand> AllKinds() => new()
    {
        Put(ClientA, 1, "k", "v"),
        Put(ClientA, long.MaxValue, "", ""),
        Put(ClientB, 300, "ключ/😀/\0", "värde"),
        new PutCommand(new WriteId(ClientA, 7), "big", Enumerable.Range(0, 70_000).Select(i => (byte)i).ToArray()),
        Delete(ClientA, 2, "gone"),
        Cas(ClientA, 3, "c", 0, "create"),
        Cas(ClientB, 4, "c", long.MaxValue, "x"),
        Cad(ClientA, 5, "d", 0),
        Cad(ClientB, 6, "d", 12345),
    };

    [Theory]
    [MemberData(nameof(AllKinds))]
    public void Round_trip_is_exact(KvCommand command)
    {
        byte[] encoded = KvCommandCodec.Encode(command);
        var decoded = KvCommandCodec.Decode(encoded);

        Assert.Equal(command, decoded);
        Assert.Equal(command.GetType(), decoded.GetType());
        Assert.Equal(command.Kind, decoded.Kind);
        // Encoding is canonical: re-encoding gives the same bytes.
        Assert.Equal(encoded, KvCommandCodec.Encode(decoded));
    }

    [Fact]
    public void Encoding_is_compact()
    {
        // 1 version + 1 kind + 16 guid + 1 seq + 1+1 key + 1+1 value + 4 crc
        Assert.Equal(27, KvCommandCodec.Encode(Put(ClientA, 1, "k", "v")).Length);
        Assert.Equal(25, KvCommandCodec.Encode(Delete(ClientA, 1, "k")).Length);
    }

    [Fact]
    public void Equality_compares_value_bytes_not_references()
    {
        Assert.Equal(Put(ClientA, 1, "k", "v"), Put(ClientA, 1, "k", "v"));
        Assert.NotEqual(Put(ClientA, 1, "k", "v"), Put(ClientA, 1, "k", "w"));
        Assert.NotEqual<KvCommand>(Put(ClientA, 1, "k", "v"), Cas(ClientA, 1, "k", 0, "v"));
        Assert.NotEqual(Cas(ClientA, 1, "k", 1, "v"), Cas(ClientA, 1, "k", 2, "v"));
        Assert.NotEqual(Cad(ClientA, 1, "k", 1), Cad(ClientA, 2, "k", 1));
    }

    [Fact]
    public void Every_single_byte_corruption_is_detected()
    {
        byte[] encoded = KvCommandCodec.Encode(Cas(ClientA, 99, "key", 42, "some value"));
        for (int i = 0; i < encoded.Length; i++)
        {
            foreach (byte flip in new byte[] { 0x01, 0x80, 0xFF })
            {
                byte[] corrupt = (byte[])encoded.Clone();
                corrupt[i] ^= flip;
                Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(corrupt));
            }
        }
    }

    [Fact]
    public void Every_truncation_is_detected()
    {
        byte[] encoded = KvCommandCodec.Encode(Put(ClientB, 5, "key", "value"));
        for (int length = 0; length < encoded.Length; length++)
        {
            Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(encoded.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Unknown_format_version_is_named_in_the_message()
    {
        byte[] encoded = KvCommandCodec.Encode(Put(ClientA, 1, "k", "v"));
        encoded[0] = 2;
        var e = Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(encoded));
        Assert.Contains("format version 2", e.Message);
    }

    [Fact]
    public void Checksum_mismatch_is_named_in_the_message()
    {
        byte[] encoded = KvCommandCodec.Encode(Put(ClientA, 1, "k", "value"));
        encoded[^6] ^= 0x10; // inside the value
        var e = Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(encoded));
        Assert.Contains("checksum", e.Message);
    }

    // The following craft bodies with a valid checksum, so only the structural checks stand between them and a misread.

    [Fact]
    public void Unknown_kind_with_valid_checksum_is_rejected()
    {
        byte[] body = Body(KvCommandCodec.Encode(Delete(ClientA, 1, "k")));
        body[1] = 9;
        var e = Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(Seal(body)));
        Assert.Contains("unknown command kind 9", e.Message);
    }

    [Fact]
    public void Trailing_bytes_with_valid_checksum_are_rejected()
    {
        byte[] body = [.. Body(KvCommandCodec.Encode(Delete(ClientA, 1, "k"))), 0x00];
        var e = Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(Seal(body)));
        Assert.Contains("trailing", e.Message);
    }

    [Fact]
    public void Length_past_the_end_with_valid_checksum_is_rejected()
    {
        // A Put whose value length claims more bytes than exist.
        byte[] body = Body(KvCommandCodec.Encode(Put(ClientA, 1, "k", "v")));
        body[^2] = 100; // value length varint
        Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(Seal(body)));
    }

    [Fact]
    public void Invalid_utf8_key_with_valid_checksum_is_rejected()
    {
        byte[] body = Body(KvCommandCodec.Encode(Delete(ClientA, 1, "k")));
        body[^1] = 0xFF; // the single key byte
        var e = Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(Seal(body)));
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void Zero_sequence_or_empty_client_with_valid_checksum_is_rejected()
    {
        byte[] body = Body(KvCommandCodec.Encode(Delete(ClientA, 1, "k")));
        body[18] = 0; // sequence varint
        Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(Seal(body)));

        body = Body(KvCommandCodec.Encode(Delete(ClientA, 1, "k")));
        Array.Clear(body, 2, 16);
        Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(Seal(body)));
    }

    [Fact]
    public void Non_minimal_varint_with_valid_checksum_is_rejected()
    {
        // Sequence 1 written as 0x81 0x00 instead of 0x01.
        byte[] body = Body(KvCommandCodec.Encode(Delete(ClientA, 1, "k")));
        byte[] stretched = [.. body[..18], 0x81, 0x00, .. body[19..]];
        var e = Assert.Throws<BinaryFormatException>(() => KvCommandCodec.Decode(Seal(stretched)));
        Assert.Contains("minimal", e.Message);
    }

    [Fact]
    public void Key_that_is_not_valid_unicode_cannot_become_a_command()
    {
        Assert.Throws<InvalidKeyException>(() => Delete(ClientA, 1, "bad\uD800"));
        Assert.Throws<InvalidKeyException>(() => Put(ClientA, 1, "\uDC00", "v"));
        Assert.Throws<InvalidKeyException>(() => Cas(ClientA, 1, "\uD800\uD800\uDC00", 0, "v"));
        Assert.Equal("😀x", Delete(ClientA, 1, "😀x").Key); // a proper pair is fine
    }

    [Fact]
    public void Constructors_reject_what_could_not_be_applied()
    {
        Assert.Throws<InvalidRequestException>(() => new PutCommand(new WriteId(Guid.Empty, 1), "k", []));
        Assert.Throws<InvalidRequestException>(() => new PutCommand(new WriteId(ClientA, 0), "k", []));
        Assert.Throws<InvalidRequestException>(() => new DeleteCommand(new WriteId(ClientA, -5), "k"));
        Assert.Throws<InvalidRequestException>(() => Cas(ClientA, 1, "k", -1, "v"));
        Assert.Throws<InvalidRequestException>(() => Cad(ClientA, 1, "k", -1));
        Assert.Throws<ArgumentNullException>(() => new PutCommand(new WriteId(ClientA, 1), null!, []));
        Assert.Throws<ArgumentNullException>(() => new PutCommand(new WriteId(ClientA, 1), "k", null!));
        Assert.Throws<ArgumentNullException>(() => new CompareAndSwapCommand(new WriteId(ClientA, 1), "k", 0, null!));
    }

    private static byte[] Body(byte[] encoded) => encoded[..^4];

    private static byte[] Seal(byte[] body)
    {
        var sealedBytes = new byte[body.Length + 4];
        body.CopyTo(sealedBytes, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(sealedBytes.AsSpan(body.Length), Crc32.HashToUInt32(body));
        return sealedBytes;
    }
}
