using Storage.StateMachine;
using static Storage.Grains.Tests.StateMachine.Commands;

namespace Storage.Grains.Tests.StateMachine;

public class KeyValidatorTests
{
    [Fact]
    public void Defaults_are_1_KiB_keys_and_1_MiB_values()
    {
        Assert.Equal(1024, StoreLimits.Default.MaxKeyBytes);
        Assert.Equal(1024 * 1024, StoreLimits.Default.MaxValueBytes);
    }

    [Fact]
    public void Null_and_empty_keys_are_invalid()
    {
        Assert.Contains("null", Assert.Throws<InvalidKeyException>(() => KeyValidator.ValidateKey(null)).Message);
        Assert.Contains("empty", Assert.Throws<InvalidKeyException>(() => KeyValidator.ValidateKey("")).Message);
    }

    [Fact]
    public void Key_limit_counts_utf8_bytes_inclusive()
    {
        Assert.Equal(1024, KeyValidator.ValidateKey(new string('x', 1024)));
        Assert.Equal(1024, KeyValidator.ValidateKey(new string('é', 512)));   // 2 bytes each

        var e = Assert.Throws<InvalidKeyException>(() => KeyValidator.ValidateKey(new string('é', 513)));
        Assert.Contains("1026", e.Message);
        Assert.Contains("1024", e.Message);
    }

    [Fact]
    public void Over_long_key_by_char_count_reports_its_byte_size()
    {
        var e = Assert.Throws<InvalidKeyException>(() => KeyValidator.ValidateKey(new string('x', 2000)));
        Assert.Contains("2000 UTF-8 bytes", e.Message);
        Assert.Contains("limit is 1024", e.Message);
    }

    [Fact]
    public void Configured_limits_apply()
    {
        var limits = new StoreLimits { MaxKeyBytes = 4, MaxValueBytes = 2 };
        Assert.Equal(4, KeyValidator.ValidateKey("abcd", limits));
        Assert.Throws<InvalidKeyException>(() => KeyValidator.ValidateKey("abcde", limits));
        Assert.Throws<InvalidKeyException>(() => KeyValidator.ValidateKey("😀x", limits)); // 5 bytes in 3 chars
        KeyValidator.ValidateValue(new byte[2], limits);
        var e = Assert.Throws<ValueTooLargeException>(() => KeyValidator.ValidateValue(new byte[3], limits));
        Assert.Equal("value is 3 bytes; the limit is 2 bytes", e.Message);
    }

    [Fact]
    public void Value_limit_is_inclusive_and_null_is_an_invalid_request()
    {
        KeyValidator.ValidateValue(new byte[1024 * 1024]);
        KeyValidator.ValidateValue([]);
        Assert.Throws<ValueTooLargeException>(() => KeyValidator.ValidateValue(new byte[(1024 * 1024) + 1]));
        Assert.Throws<InvalidRequestException>(() => KeyValidator.ValidateValue(null));
    }

    [Fact]
    public void Unpaired_surrogates_are_invalid_keys()
    {
        Assert.Throws<InvalidKeyException>(() => KeyValidator.ValidateKey("a\uD800"));
        Assert.Throws<InvalidKeyException>(() => KeyValidator.ValidateKey("\uDC00b"));
        Assert.Equal(4, KeyValidator.ValidateKey("😀"));
    }

    [Fact]
    public void Prefix_may_be_empty_but_not_too_long()
    {
        KeyValidator.ValidatePrefix(null, StoreLimits.Default);
        KeyValidator.ValidatePrefix("", StoreLimits.Default);
        KeyValidator.ValidatePrefix("user/", StoreLimits.Default);
        Assert.Throws<InvalidKeyException>(() => KeyValidator.ValidatePrefix(new string('p', 1025), StoreLimits.Default));
    }

    [Fact]
    public void Commands_are_validated_by_kind()
    {
        var limits = new StoreLimits { MaxKeyBytes = 3, MaxValueBytes = 1 };
        KeyValidator.Validate(Put(ClientA, 1, "abc", "x"), limits);
        KeyValidator.Validate(Delete(ClientA, 1, "abc"), limits);
        KeyValidator.Validate(Cad(ClientA, 1, "abc", 0), limits);
        Assert.Throws<ValueTooLargeException>(() => KeyValidator.Validate(Put(ClientA, 1, "abc", "xy"), limits));
        Assert.Throws<ValueTooLargeException>(() => KeyValidator.Validate(Cas(ClientA, 1, "abc", 0, "xy"), limits));
        Assert.Throws<InvalidKeyException>(() => KeyValidator.Validate(Delete(ClientA, 1, "abcd"), limits));
        Assert.Throws<InvalidKeyException>(() => KeyValidator.Validate(Delete(ClientA, 1, ""), limits));
    }

    [Fact]
    public void Limits_reject_nonsense()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StoreLimits { MaxKeyBytes = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new StoreLimits { MaxValueBytes = -1 });
    }
}
