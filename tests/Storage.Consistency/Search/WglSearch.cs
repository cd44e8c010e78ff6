namespace Storage.Consistency;

/// <summary>
/// The Wing–Gong linearizability search with Lowe's memoization, as Porcupine implements it: the history
/// is a doubly linked list of call and return entries in time order; the search repeatedly picks a call
/// that precedes the first remaining return (an operation that could be the next to take effect), applies
/// it to the model, and "lifts" its call and return out of the list; when the first remaining return's
/// operation cannot go next it backtracks. A memo of (set of linearized operations, model state) prunes
/// configurations already explored — reaching one again can only fail again.
/// <para>Operations without an answer have their return at +infinity, so they may be linearized anywhere
/// after their invocation, and they carry no obligation: once every answered operation is linearized the
/// search is done, the unanswered rest "never took effect" (or took effect last, unobserved).</para>
/// <para>Prunings on top, each keeping the search exact:</para>
/// <list type="bullet">
/// <item>An unanswered write is not linearized where it would change nothing (a CAS that cannot match,
/// a delete of an absent key): leaving it for later loses nothing.</item>
/// <item>A step that raises the key's version bound past what a pending answered operation tolerates is
/// a dead end and not taken (see <see cref="LowLimits"/>): versions dictate the order of writes.</item>
/// <item>Answered operations are tried before unanswered ones, so legal histories with lost writes find
/// their linearization without first trying every subset of those writes.</item>
/// <item>Unanswered operations carry no obligation (they always can go last), and a state that subsumes
/// another allows everything it does. So a configuration is dominated by one with the same answered
/// operations, a subsuming state and a subset of the unanswered ones: if that one failed, this one fails.
/// The memo keeps, per set of answered operations, the (state, unanswered set) pairs explored, and
/// prunes what a finished one dominates (an unfinished one may be an ancestor of the current
/// configuration, which proves nothing yet). This is what keeps lost writes from multiplying the search
/// by every subset and order of them.</item>
/// <item>An answered read-only candidate (a Get, a CAS conflict) that leaves the state unchanged can be
/// linearized right away without losing any solution: in any completion it can be moved to the front —
/// nothing still pending had to precede it, it changes nothing for the operations it jumps over, and
/// where it stood a read only ever narrowed the state. So it is committed without a choice point: if
/// the search fails after it, it fails before it too. (Not for lost writes: a CAS that cannot match now
/// may match later.)</item>
/// </list>
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

        // Answered and unanswered operations are tracked in separate bit sets (see the memo above).
        var slot = new int[n];
        int answered = 0, unanswered = 0;
        for (int i = 0; i < n; i++)
        {
            slot[i] = ops[i].Known ? answered++ : unanswered++;
        }

        var list = new EntryList(ops);
        var limits = model.LowNeverDecreases ? new LowLimits(ops) : null;
        var known = new ulong[(answered + 63) / 64];
        var unknown = new ulong[(unanswered + 63) / 64];
        ulong knownHash = 0;
        var zobrist = ZobristKeys(answered);
        var memo = new Dictionary<MemoKey, List<Explored>>(MemoComparer.Instance);
        var stack = new Stack<Frame>();
        var state = model.Initial;
        int entry = list.Next[Head];
        bool unknownPhase = false;
        long steps = 0;
        int linearizedAnswered = 0;

        // Done when every answered operation is linearized: the unanswered rest can always go last.
        while (linearizedAnswered < answered)
        {
            steps++;
            if (!budget.Spend(1, (steps & ClockCheckMask) == 0))
            {
                return SearchOutcome.BudgetExceeded;
            }

            bool backtrack = false;
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
                if (next is null
                    || (!ops[op].Known && state.Subsumes(next))
                    || (limits is not null && next.MinLow > limits.MinPendingExcept(op)))
                {
                    // Cannot go now; or is an unanswered write that would change nothing now (skipping it
                    // loses nothing: it stays available for later, or never); or would strand an answered
                    // operation still pending (see LowLimits).
                    entry = list.Next[entry];
                    continue;
                }

                bool commit = ops[op].IsReadOnly && next.Equals(state);
                Toggle(op);
                if (IsExplored(next))
                {
                    Toggle(op);
                    if (!commit)
                    {
                        entry = list.Next[entry];
                        continue;
                    }

                    // The committed child was explored and failed, so this configuration fails.
                    backtrack = true;
                }
                else
                {
                    stack.Push(new Frame(entry, state, unknownPhase, Committed: commit, Remember(next)));
                    state = next;
                    list.Lift(entry);
                    entry = list.Next[Head];
                    unknownPhase = false;
                    continue;
                }
            }

            if (!backtrack && !unknownPhase)
            {
                // Reached the first remaining return: now the unanswered candidates before it.
                unknownPhase = true;
                entry = list.Next[Head];
                continue;
            }

            // Every candidate failed: undo the last choice — and past committed steps, which were no choice.
            Frame frame;
            do
            {
                if (stack.Count == 0)
                {
                    return SearchOutcome.Illegal;
                }

                frame = stack.Pop();
                frame.Explored.Finished = true;
                Toggle(list.Op[frame.Entry]);
                state = frame.State;
                list.Unlift(frame.Entry);
            }
            while (frame.Committed);

            entry = list.Next[frame.Entry];
            unknownPhase = frame.UnknownPhase;
        }

        return SearchOutcome.Linearizable;

        void Toggle(int op)
        {
            int s = slot[op];
            if (ops[op].Known)
            {
                ulong bit = 1UL << (s & 63);
                known[s >> 6] ^= bit;
                knownHash ^= zobrist[s];
                bool linearized = (known[s >> 6] & bit) != 0;
                linearizedAnswered += linearized ? 1 : -1;
                limits?.Mark(op, linearized);
            }
            else
            {
                unknown[s >> 6] ^= 1UL << (s & 63);
            }
        }

        bool IsExplored(ModelState candidate)
        {
            if (!memo.TryGetValue(new MemoKey(known, knownHash), out var seen))
            {
                return false;
            }

            foreach (var e in seen)
            {
                // The very same configuration was explored (it cannot be an ancestor: those have fewer
                // operations linearized), or a dominating one was, to the end, without success.
                bool hit = e.Finished
                    ? IsSubset(e.Unknown, unknown) && e.State.Subsumes(candidate)
                    : e.State.Equals(candidate) && e.Unknown.AsSpan().SequenceEqual(unknown);
                if (hit)
                {
                    return true;
                }
            }

            return false;
        }

        Explored Remember(ModelState candidate)
        {
            if (!memo.TryGetValue(new MemoKey(known, knownHash), out var seen))
            {
                seen = [];
                memo.Add(new MemoKey((ulong[])known.Clone(), knownHash), seen);
            }

            var explored = new Explored(candidate, (ulong[])unknown.Clone());
            seen.Add(explored);
            return explored;
        }
    }

    private static bool IsSubset(ulong[] a, ulong[] b)
    {
        for (int i = 0; i < a.Length; i++)
        {
            if ((a[i] & ~b[i]) != 0)
            {
                return false;
            }
        }

        return true;
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

    /// <param name="Committed">A read that left the state unchanged, taken without trying alternatives.</param>
    /// <param name="Explored">The memo entry of the configuration this step led to.</param>
    private readonly record struct Frame(int Entry, ModelState State, bool UnknownPhase, bool Committed, Explored Explored);

    /// <summary>A configuration in the memo: its state, the unanswered operations linearized, and whether its exploration has ended (in failure).</summary>
    private sealed class Explored(ModelState state, ulong[] unknown)
    {
        public ModelState State { get; } = state;

        public ulong[] Unknown { get; } = unknown;

        public bool Finished { get; set; }
    }

    /// <summary>A memo key: the set of answered operations linearized (probed with the live array, stored as a copy).</summary>
    private readonly record struct MemoKey(ulong[] Bits, ulong BitsHash);

    private sealed class MemoComparer : IEqualityComparer<MemoKey>
    {
        public static readonly MemoComparer Instance = new();

        public bool Equals(MemoKey x, MemoKey y) => x.BitsHash == y.BitsHash && x.Bits.AsSpan().SequenceEqual(y.Bits);

        public int GetHashCode(MemoKey e) => (int)e.BitsHash ^ (int)(e.BitsHash >> 32);
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
            _isReturn = new bool[size];
            var callOf = new int[n];
            Prev[Head] = End;
            Op[Head] = -1;
            for (int i = 0; i < events.Length; i++)
            {
                int node = i + 1;
                Prev[node] = node - 1;
                Next[node - 1] = node;
                Op[node] = events[i].Op;
                Match[node] = End;
                if (events[i].Kind == 0)
                {
                    callOf[events[i].Op] = node;
                }
                else
                {
                    _isReturn[node] = true;
                    Match[callOf[events[i].Op]] = node;
                }
            }

            Next[size - 1] = End;
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
