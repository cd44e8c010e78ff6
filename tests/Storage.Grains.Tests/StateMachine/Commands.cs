using Storage.StateMachine;

namespace Storage.Grains.Tests.StateMachine;

/// <summary>Short constructors for test commands.</summary>
internal static class Commands
{
    public static readonly Guid ClientA = new("aaaaaaaa-0000-0000-0000-000000000001");
    public static readonly Guid ClientB = new("bbbbbbbb-0000-0000-0000-000000000002");

    public static byte[] Bytes(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    public static PutCommand Put(Guid client, long seq, string key, string value) => new(new WriteId(client, seq), key, Bytes(value));

    public static DeleteCommand Delete(Guid client, long seq, string key) => new(new WriteId(client, seq), key);

    public static CompareAndSwapCommand Cas(Guid client, long seq, string key, long expected, string value) =>
        new(new WriteId(client, seq), key, expected, Bytes(value));

    public static CompareAndDeleteCommand Cad(Guid client, long seq, string key, long expected) =>
        new(new WriteId(client, seq), key, expected);
}
