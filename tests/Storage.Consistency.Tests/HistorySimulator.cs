namespace Storage.Consistency.Tests;

/// <summary>
/// Generates linearizable histories by construction: clients invoke operations against a sequential
/// simulation of the store's real semantics (one shard: a single log index shared by all keys, so a key's
/// versions grow with gaps; deletes and failed CAS consume indexes too), each operation takes effect at a
/// random moment between its invocation and its completion, and the interleaving is random. Some answers
/// are lost (Unknown) after the effect; some operations time out before it and then take effect later or
/// never; some fail without effect.
/// </summary>
internal sealed class HistorySimulator
{
    private static readonly string[] SharedValues = ["x", "y", "z"];

    private readonly Random _rng;
    private readonly SimulatorOptions _options;
    private readonly HistoryRecorder _recorder = new();
    private readonly Dictionary<string, (ValueBytes Value, long Version)> _store = new(StringComparer.Ordinal);
    private readonly List<InFlight> _inFlight = [];
    private readonly List<InFlight> _zombies = [];
    private readonly Queue<int> _idleClients = new();
    private readonly Dictionary<(int, string), long> _lastSeen = [];
    private long _logIndex;
    private int _nextClient;
    private int _valueCounter;

    private HistorySimulator(int seed, SimulatorOptions options)
    {
        _rng = new Random(seed);
        _options = options;
        _logIndex = _rng.Next(0, 50);
        for (int i = 0; i < options.Clients; i++)
        {
            _idleClients.Enqueue(_nextClient++);
        }
    }

    public static History Generate(int seed, SimulatorOptions options) => new HistorySimulator(seed, options).Run();

    private History Run()
    {
        int issued = 0;
        while (issued < _options.Operations || _inFlight.Count > 0)
        {
            int roll = _rng.Next(100);
            if (issued < _options.Operations && _idleClients.Count > 0 && (roll < 35 || _inFlight.Count == 0))
            {
                Invoke();
                issued++;
            }
            else if (roll < 70 && _inFlight.Any(f => !f.Applied))
            {
                Apply(Pick(_inFlight.Where(f => !f.Applied).ToList()));
            }
            else if (roll < 95 && _inFlight.Any(f => f.Applied))
            {
                Complete(Pick(_inFlight.Where(f => f.Applied).ToList()));
            }
            else if (_rng.NextDouble() < _options.UnknownRate + _options.FailRate && _inFlight.Any(f => !f.Applied))
            {
                GiveUp(Pick(_inFlight.Where(f => !f.Applied).ToList()));
            }

            if (_zombies.Count > 0 && _rng.Next(20) == 0)
            {
                // A timed-out write reaches the store late — or is lost for good.
                var zombie = Pick(_zombies);
                _zombies.Remove(zombie);
                if (_rng.Next(2) == 0)
                {
                    Execute(zombie.Handle.Operation);
                }
            }
        }

        return _recorder.ToHistory();
    }

    private T Pick<T>(List<T> items) => items[_rng.Next(items.Count)];

    private void Invoke()
    {
        int client = _idleClients.Dequeue();
        string key = $"k{_rng.Next(_options.Keys)}";
        var op = _rng.Next(100) switch
        {
            < 30 => Operation.Put(key, NextValue()),
            < 40 => Operation.Delete(key),
            < 60 => Operation.Cas(key, ExpectedVersion(client, key), NextValue()),
            _ => Operation.Get(key),
        };
        _inFlight.Add(new InFlight(client, _recorder.Invoke(client, op)));
    }

    private string NextValue() =>
        _rng.NextDouble() < _options.SharedValueRate ? SharedValues[_rng.Next(SharedValues.Length)] : $"v{_valueCounter++}";

    private long ExpectedVersion(int client, string key) => _rng.Next(10) switch
    {
        // Mostly what this client last saw (a realistic read-modify-write), sometimes the truth, sometimes junk.
        < 6 => _lastSeen.GetValueOrDefault((client, key)),
        < 8 => _store.TryGetValue(key, out var s) ? s.Version : 0,
        < 9 => 0,
        _ => _rng.NextInt64(0, _logIndex + 2),
    };

    private void Apply(InFlight f)
    {
        f.Result = Execute(f.Handle.Operation);
        f.Applied = true;
    }

    private OperationResult Execute(Operation op)
    {
        bool existed = _store.TryGetValue(op.Key, out var current);
        long actual = existed ? current.Version : 0;
        switch (op.Kind)
        {
            case OperationKind.Get:
                return existed ? OperationResult.Read(true, current.Value, current.Version) : OperationResult.ReadMissing();
            case OperationKind.Put:
                _store[op.Key] = (op.Value!, ++_logIndex);
                return OperationResult.Written(_logIndex, existed);
            case OperationKind.Delete:
                _logIndex++;
                _store.Remove(op.Key);
                return OperationResult.Deleted(existed);
            default:
                _logIndex++;
                if (actual != op.ExpectedVersion)
                {
                    return OperationResult.Conflict(actual);
                }

                _store[op.Key] = (op.Value!, _logIndex);
                return OperationResult.Written(_logIndex, existed);
        }
    }

    private void Complete(InFlight f)
    {
        _inFlight.Remove(f);
        var result = f.Result!;
        if (_rng.NextDouble() < _options.UnknownRate)
        {
            // Applied, but the answer is lost on the way back.
            f.Handle.Unknown();
        }
        else
        {
            f.Handle.Ok(result);
            if (result.Kind is ResultKind.Read or ResultKind.Written or ResultKind.Conflict)
            {
                _lastSeen[(f.Client, f.Handle.Operation.Key)] = result.Version;
            }
        }

        Release(f.Client);
    }

    private void GiveUp(InFlight f)
    {
        _inFlight.Remove(f);
        if (_rng.NextDouble() < _options.FailRate / Math.Max(_options.FailRate + _options.UnknownRate, 1e-9))
        {
            // Refused outright (e.g. a validation error): never applied.
            f.Handle.Fail();
        }
        else
        {
            // Timed out before taking effect: it may still take effect later.
            f.Handle.Unknown();
            if (f.Handle.Operation.IsWrite)
            {
                _zombies.Add(f);
            }
        }

        Release(f.Client);
    }

    private void Release(int client)
    {
        // A client that lost track of an answer continues under a new identity, as Jepsen does.
        _idleClients.Enqueue(_rng.Next(10) == 0 ? _nextClient++ : client);
    }

    private sealed class InFlight(int client, OperationHandle handle)
    {
        public int Client { get; } = client;

        public OperationHandle Handle { get; } = handle;

        public bool Applied { get; set; }

        public OperationResult? Result { get; set; }
    }
}
