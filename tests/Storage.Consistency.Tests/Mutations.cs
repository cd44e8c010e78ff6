namespace Storage.Consistency.Tests;

/// <summary>
/// Corruptions of a linearizable history that are guaranteed to make it non-linearizable — the tests only
/// assert rejection for these, never for arbitrary changes (most of which could still be explained).
/// </summary>
internal static class Mutations
{
    /// <summary>
    /// A found read now returns a value no operation ever wrote: no order can explain it.
    /// Returns the corrupted history and the id of the corrupted read, or null if there is no found read.
    /// </summary>
    public static (History History, int OperationId)? PhantomRead(History history, Random rng)
    {
        var reads = history.Where(r => r.Outcome == OperationOutcome.Ok && r.Operation.Kind == OperationKind.Get && r.Result!.Found).ToList();
        if (reads.Count == 0)
        {
            return null;
        }

        var read = reads[rng.Next(reads.Count)];
        var corrupted = read with { Result = OperationResult.ReadValue("never-written", read.Result!.Version) };
        return (history.Replace(corrupted), read.Id);
    }

    /// <summary>
    /// A read now returns the value and version of write W1 although W1 and a later write W2 with a larger
    /// answered version both completed before the read was invoked. W1 precedes the read and so does W2;
    /// versions force W1 before W2; after W2 the key's version only grows (a re-created key gets a larger
    /// one too), and no other write can get W1's version again — so the read cannot be explained.
    /// Returns null if the history has no such triple.
    /// </summary>
    public static (History History, int OperationId, int OverwrittenBy)? StaleRead(History history, Random rng)
    {
        var candidates = new List<(OperationRecord Read, OperationRecord W1, OperationRecord W2)>();
        foreach (var key in history.GroupBy(r => r.Key))
        {
            var writes = key.Where(r => r.Outcome == OperationOutcome.Ok && r.Result!.Kind == ResultKind.Written).ToList();
            foreach (var read in key.Where(r => r.Outcome == OperationOutcome.Ok && r.Operation.Kind == OperationKind.Get))
            {
                var before = writes.Where(w => w.CompleteTime < read.InvokeTime).OrderBy(w => w.Result!.Version).ToList();
                if (before.Count >= 2)
                {
                    var w1 = before[rng.Next(before.Count - 1)];
                    var w2 = before[^1];
                    candidates.Add((read, w1, w2));
                }
            }
        }

        if (candidates.Count == 0)
        {
            return null;
        }

        var (r, first, second) = candidates[rng.Next(candidates.Count)];
        var corrupted = r with { Result = OperationResult.Read(true, first.Operation.Value, first.Result!.Version) };
        return (history.Replace(corrupted), r.Id, second.Id);
    }
}
