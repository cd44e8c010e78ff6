using System.Numerics;

namespace Storage.Consistency;

/// <summary>
/// The Wing–Gong linearizability search with Lowe's memoization, as Porcupine implements it: the history
/// is a doubly linked list of call and return entries in time order; the search repeatedly picks a call
/// that precedes the first remaining return (an operation that could be the next to take effect), applies
/// it to the model, and "lifts" its call and return out of the list; when the first remaining return's
/// operation cannot go next it backtracks. A memo of (set of linearized operations, model state) prunes
/// configurations already explored — reaching one again can only fail again.
/// <para>Operations without an answer have their return at +infinity, so they may be linearized anywhere
/// after their invocation; one linearized at the very end changes nothing anybody observed, which is how
/// "it never took effect" is covered. Candidates are tried answered-first: an unanswered write is only
/// tried where no answered operation fits, which keeps legal histories with many lost writes from
/// exploring every subset of them before moving on.</para>
/// </summary>
internal static class WglSearch
{
    private const int Head = 0;
    private const int End = -1;
    private const int ClockCheckMask = 1023;

    public static SearchOutcome Run(IReadOnlyList<ModelOp> ops, RegisterModel model, SearchBudget budget)
    {
        int n = ops.Count;
        if (n == 0)
        {
            return SearchOutcome.Linearizable;
        }

        var list = new EntryList(ops);
        var linearized = new ulong[(n + 63) / 64];
        ulong linearizedHash = 0;
        var zobrist = ZobristKeys(n);
        var memo = new HashSet<MemoEntry>(MemoComparer.Instance);
        var stack = new Stack<Frame>();
        var state = model.Initial;
        int entry = list.Next[Head];
        bool unknownPhase = false;
        long steps = 0;

        while (list.Next[Head] != End)
        {
            steps++;
            if (!budget.Spend(1, (steps & ClockCheckMask) == 0))
            {
                return SearchOutcome.BudgetExceeded;
            }

            if (entry != End && list.IsCall(entry))
            {
                int op = list.Op[entry];
                if (ops[op].Known == unknownPhase)
                {
                    // Not this phase's kind of candidate.
                    entry = list.Next[entry];
                    continue;
                }

                var next = model.Step(state, ops[op]);
                if (next is not null)
                {
                    ulong hash = linearizedHash ^ zobrist[op];
                    linearized[op >> 6] ^= 1UL << (op & 63);
                    if (!memo.Contains(new MemoEntry(linearized, hash, next, copy: false)))
                    {
                        memo.Add(new MemoEntry(linearized, hash, next, copy: true));
                        stack.Push(new Frame(entry, state, unknownPhase));
                        state = next;
                        linearizedHash = hash;
                        list.Lift(entry);
                        entry = list.Next[Head];
                        unknownPhase = false;
                        continue;
                    }

                    linearized[op >> 6] ^= 1UL << (op & 63);
                }

                entry = list.Next[entry];
                continue;
            }

            // Reached the first remaining return: no more candidates of this phase.
            if (!unknownPhase)
            {
                unknownPhase = true;
                entry = list.Next[Head];
                continue;
            }

            if (stack.Count == 0)
            {
                return SearchOutcome.Illegal;
            }

            var frame = stack.Pop();
            int undone = list.Op[frame.Entry];
            linearized[undone >> 6] ^= 1UL << (undone & 63);
            linearizedHash ^= zobrist[undone];
            state = frame.State;
            list.Unlift(frame.Entry);
            entry = list.Next[frame.Entry];
            unknownPhase = frame.UnknownPhase;
        }

        return SearchOutcome.Linearizable;
    }

    /// <summary>Random (but fixed) 64-bit keys so the hash of a set of operations updates in O(1) per change.</summary>
    private static ulong[] ZobristKeys(int n)
    {
        var keys = new ulong[n];
        ulong x = 0x9E3779B97F4A7C15UL;
        for (int i = 0; i < n; i++)
        {
            // SplitMix64.
            x += 0x9E3779B97F4A7C15UL;
            ulong z = x;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            keys[i] = z ^ (z >> 31);
        }

        return keys;
    }

    private readonly record struct Frame(int Entry, ModelState State, bool UnknownPhase);

    /// <summary>
    /// A memo key. Probed with the live bit array (no allocation for a hit); stored with a copy, since the
    /// live array keeps changing.
    /// </summary>
    private readonly struct MemoEntry
    {
        public MemoEntry(ulong[] bits, ulong bitsHash, ModelState state, bool copy)
        {
            Bits = copy ? (ulong[])bits.Clone() : bits;
            BitsHash = bitsHash;
            State = state;
        }

        public ulong[] Bits { get; }

        public ulong BitsHash { get; }

        public ModelState State { get; }
    }

    private sealed class MemoComparer : IEqualityComparer<MemoEntry>
    {
        public static readonly MemoComparer Instance = new();

        public bool Equals(MemoEntry x, MemoEntry y) =>
            x.BitsHash == y.BitsHash && x.State.Equals(y.State) && x.Bits.AsSpan().SequenceEqual(y.Bits);

        public int GetHashCode(MemoEntry e) => (int)BitOperations.RotateLeft(e.BitsHash, 17) ^ (int)(e.BitsHash >> 32) ^ e.State.GetHashCode();
    }

    /// <summary>
    /// The call/return entries as index arrays. Entry 0 is the head sentinel; entries 1..2n are the events
    /// sorted by time (calls before returns at equal times, so touching operations count as concurrent).
    /// </summary>
    private sealed class EntryList
    {
        private readonly bool[] _isReturn;

        public EntryList(IReadOnlyList<ModelOp> ops)
        {
            int n = ops.Count;
            var events = new (long Time, int Kind, int Op)[2 * n];
            for (int i = 0; i < n; i++)
            {
                events[2 * i] = (ops[i].Invoke, 0, i);
                events[(2 * i) + 1] = (ops[i].Return, 1, i);
            }

            Array.Sort(events);
            int size = (2 * n) + 1;
            Next = new int[size];
            Prev = new int[size];
            Op = new int[size];
            Match = new int[size];
            var callOf = new int[n];
            Prev[Head] = End;
            Op[Head] = -1;
            Match[Head] = End;
            for (int i = 0; i < events.Length; i++)
            {
                int node = i + 1;
                Prev[node] = node - 1;
                Next[node - 1] = node;
                Op[node] = events[i].Op;
                if (events[i].Kind == 0)
                {
                    callOf[events[i].Op] = node;
                    Match[node] = End;
                }
                else
                {
                    Match[callOf[events[i].Op]] = node;
                    Match[node] = End;
                }
            }

            Next[size - 1] = End;
            _isReturn = new bool[size];
            for (int i = 0; i < events.Length; i++)
            {
                _isReturn[i + 1] = events[i].Kind == 1;
            }
        }

        public int[] Next { get; }

        public int[] Prev { get; }

        public int[] Op { get; }

        /// <summary>For a call entry, its return entry.</summary>
        public int[] Match { get; }

        public bool IsCall(int node) => !_isReturn[node];

        public void Lift(int call)
        {
            Next[Prev[call]] = Next[call];
            Prev[Next[call]] = Prev[call]; // a call always has its return after it
            int ret = Match[call];
            Next[Prev[ret]] = Next[ret];
            if (Next[ret] != End)
            {
                Prev[Next[ret]] = Prev[ret];
            }
        }

        public void Unlift(int call)
        {
            int ret = Match[call];
            Next[Prev[ret]] = ret;
            if (Next[ret] != End)
            {
                Prev[Next[ret]] = ret;
            }

            Next[Prev[call]] = call;
            Prev[Next[call]] = call;
        }
    }
}
