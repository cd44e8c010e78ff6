using Storage.StateMachine;
using static Storage.Grains.Tests.StateMachine.Commands;

namespace Storage.Grains.Tests.StateMachine;

public class ExactlyOnceTests
{
    [Fact]
    public void Retry_of_the_last_write_returns_the_remembered_result_without_applying()
    {
        var sm = new KvStateMachine();
        var first = sm.Apply(1, Put(ClientA, 1, "k", "v1"));
        sm.Apply(2, Put(ClientB, 1, "k", "by-b"));

        // The retry arrives later in the log: it must not overwrite B's write.
        var retry = sm.Apply(3, Put(ClientA, 1, "k", "v1"));

        Assert.True(retry.IsReplay);
        Assert.Equal(first.Status, retry.Status);
        Assert.Equal(first.Version, retry.Version);
        Assert.Equal(first.Existed, retry.Existed);
        Assert.Equal(Bytes("by-b"), sm.Get("k").Value);
        Assert.Equal(2, sm.Get("k").Version);
        Assert.Equal(3, sm.AppliedIndex);
    }

    [Fact]
    public void Retry_of_a_conflicted_cas_returns_the_conflict_even_if_it_would_now_succeed()
    {
        var sm = new KvStateMachine();
        sm.Apply(1, Put(ClientB, 1, "k", "v"));                  // version 1
        var conflict = sm.Apply(2, Cas(ClientA, 1, "k", 2, "x")); // expects 2, finds 1
        sm.Apply(3, Put(ClientB, 2, "k", "w"));                  // version 3
        sm.Apply(4, Cas(ClientB, 3, "k", 3, "y"));               // version 4
        sm.Apply(5, Delete(ClientB, 4, "k"));
        sm.Apply(6, Cas(ClientB, 5, "k", 0, "z"));               // version 6

        var retry = sm.Apply(7, Cas(ClientA, 1, "k", 2, "x"));

        Assert.Equal(KvApplyStatus.Conflict, retry.Status);
        Assert.Equal((2L, 1L), (retry.ExpectedVersion, retry.ActualVersion));
        Assert.True(retry.IsReplay);
        Assert.Equal(conflict.AsReplay(), retry);
        Assert.Equal(Bytes("z"), sm.Get("k").Value);
    }

    [Fact]
    public void Retry_of_a_delete_does_not_delete_a_later_recreate()
    {
        var sm = new KvStateMachine();
        sm.Apply(1, Put(ClientA, 1, "k", "v"));
        sm.Apply(2, Delete(ClientA, 2, "k"));
        sm.Apply(3, Put(ClientB, 1, "k", "again"));

        var retry = sm.Apply(4, Delete(ClientA, 2, "k"));

        Assert.Equal(KvApplyResult.Applied(0, existed: true).AsReplay(), retry);
        Assert.Equal(Bytes("again"), sm.Get("k").Value);
    }

    [Fact]
    public void Lower_sequence_is_stale_and_never_applied()
    {
        var sm = new KvStateMachine();
        sm.Apply(1, Put(ClientA, 1, "k", "one"));
        sm.Apply(2, Put(ClientA, 2, "k", "two"));

        var stale = sm.Apply(3, Put(ClientA, 1, "k", "one"));

        Assert.Equal(KvApplyStatus.Stale, stale.Status);
        Assert.Equal(2, stale.LastSequence);
        Assert.False(stale.IsReplay);
        Assert.Equal(Bytes("two"), sm.Get("k").Value);
        Assert.Equal(2, sm.Get("k").Version);
        var e = Assert.Throws<InvalidRequestException>(() => stale.ToWriteResult("k"));
        Assert.Contains("stale", e.Message);

        // The table still remembers sequence 2 (a stale answer does not replace it).
        Assert.True(sm.TryGetSession(ClientA, out var session));
        Assert.Equal(2, session.LastSequence);
        Assert.Equal(KvApplyResult.Applied(2, existed: true), session.LastResult);
    }

    [Fact]
    public void Stale_also_applies_to_a_write_that_never_took_effect()
    {
        // Sequence 5 skipped ahead while 4 was still in flight (a client that pipelines on one id):
        // 4 arrives late and is refused, which is why a client id may have one write outstanding.
        var sm = new KvStateMachine();
        sm.Apply(1, Put(ClientA, 5, "a", "five"));
        var late = sm.Apply(2, Put(ClientA, 4, "b", "four"));
        Assert.Equal(KvApplyStatus.Stale, late.Status);
        Assert.False(sm.Get("b").Found);
    }

    [Fact]
    public void Gaps_in_sequences_are_fine_and_clients_are_independent()
    {
        var sm = new KvStateMachine();
        sm.Apply(1, Put(ClientA, 10, "a", "x"));
        Assert.True(sm.Apply(2, Put(ClientA, 20, "a", "y")).IsSuccess);
        Assert.True(sm.Apply(3, Put(ClientB, 1, "b", "z")).IsSuccess);   // B's 1 is not A's 1
        Assert.Equal(2, sm.TrackedClientCount);
    }

    [Fact]
    public void Idle_clients_are_evicted_after_the_configured_number_of_entries()
    {
        var sm = new KvStateMachine(new KvStateMachineOptions { ClientIdleEntries = 3 });
        sm.Apply(1, Put(ClientA, 1, "k", "v"));
        sm.ApplyNoOp(2);
        sm.ApplyNoOp(3);
        sm.ApplyNoOp(4); // 4 - 1 = 3: not more than 3, still remembered
        Assert.True(sm.TryGetSession(ClientA, out _));

        sm.ApplyNoOp(5); // 5 - 1 = 4 > 3: forgotten
        Assert.False(sm.TryGetSession(ClientA, out _));

        // The price of eviction, stated: a very late retry is applied again.
        var late = sm.Apply(6, Put(ClientA, 1, "k", "v"));
        Assert.False(late.IsReplay);
        Assert.Equal(6, late.Version);
    }

    [Fact]
    public void Any_command_from_a_client_keeps_its_session_alive()
    {
        var sm = new KvStateMachine(new KvStateMachineOptions { ClientIdleEntries = 2 });
        sm.Apply(1, Put(ClientA, 2, "k", "v"));
        sm.ApplyNoOp(2);
        sm.Apply(3, Put(ClientA, 2, "k", "v")); // replay touches
        sm.ApplyNoOp(4);
        sm.Apply(5, Put(ClientA, 1, "k", "v")); // stale touches too
        sm.ApplyNoOp(6);
        sm.ApplyNoOp(7);
        Assert.True(sm.TryGetSession(ClientA, out var s));
        Assert.Equal(5, s.LastIndex);
        Assert.Equal(2, s.LastSequence);
    }

    [Fact]
    public void Table_size_is_bounded_by_evicting_the_least_recently_seen_client()
    {
        var sm = new KvStateMachine(new KvStateMachineOptions { MaxClients = 3 });
        var clients = Enumerable.Range(1, 5).Select(i => new Guid(i, 0, 0, new byte[8])).ToArray();
        sm.Apply(1, Put(clients[0], 1, "k", "v"));
        sm.Apply(2, Put(clients[1], 1, "k", "v"));
        sm.Apply(3, Put(clients[2], 1, "k", "v"));
        sm.Apply(4, Put(clients[0], 2, "k", "v")); // client 0 is now the most recent
        sm.Apply(5, Put(clients[3], 1, "k", "v")); // evicts client 1, the least recently seen

        Assert.Equal(3, sm.TrackedClientCount);
        Assert.Equal(new[] { clients[2], clients[0], clients[3] }, sm.GetSessions().Select(s => s.ClientId));
    }

    [Fact]
    public void Replicas_applying_the_same_log_evict_identically()
    {
        var options = new KvStateMachineOptions { ClientIdleEntries = 5, MaxClients = 4 };
        var a = new KvStateMachine(options);
        var b = new KvStateMachine(options);
        var rng = new Random(1234);
        var clients = Enumerable.Range(1, 8).Select(i => new Guid(i, 0, 0, new byte[8])).ToArray();
        for (long index = 1; index <= 500; index++)
        {
            if (rng.Next(4) == 0)
            {
                a.ApplyNoOp(index);
                b.ApplyNoOp(index);
                continue;
            }

            var cmd = Put(clients[rng.Next(clients.Length)], rng.Next(1, 50), $"k{rng.Next(10)}", "v");
            Assert.Equal(a.Apply(index, cmd), b.Apply(index, cmd));
            Assert.True(a.TrackedClientCount <= 4);
        }

        Assert.Equal(a.GetSessions(), b.GetSessions());
        Assert.Equal(a.CreateSnapshot(), b.CreateSnapshot());
    }

    [Fact]
    public void Options_reject_nonsense()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KvStateMachineOptions { ClientIdleEntries = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new KvStateMachineOptions { MaxClients = 0 });
    }
}
