using System.Text;

namespace Storage.Consistency;

/// <summary>
/// A small non-linearizable piece of one key's history, explaining an Illegal verdict.
/// <para>Built from the shortest prefix of the key's history (by completion order) that is already not
/// linearizable, then shrunk greedily: reads are dropped and writes moved to <see cref="PossiblyApplied"/>
/// while the rest stays non-linearizable. Every step only weakens the history (a dropped read constrains
/// nothing; a write in <see cref="PossiblyApplied"/> is assumed able to take effect at any moment, any
/// number of times), so the witness alone proves the full history wrong — nothing left out could fix it.
/// Lost writes start out in <see cref="PossiblyApplied"/> when the history fails that way too (it is
/// much cheaper to search).</para>
/// </summary>
public sealed class FailureWitness
{
    private const int MaxPossiblyAppliedShown = 12;

    internal FailureWitness(
        IReadOnlyList<WitnessOperation> operations,
        IReadOnlyList<OperationRecord> possiblyApplied,
        OperationRecord? failingOperation,
        int prefixOperationCount,
        bool isMinimal)
    {
        Operations = operations;
        PossiblyApplied = possiblyApplied;
        FailingOperation = failingOperation;
        PrefixOperationCount = prefixOperationCount;
        IsMinimal = isMinimal;
    }

    /// <summary>The operations kept with their answers, by invocation time.</summary>
    public IReadOnlyList<WitnessOperation> Operations { get; }

    /// <summary>Writes of the failing prefix assumed able to take effect at any time (or never, or repeatedly).</summary>
    public IReadOnlyList<OperationRecord> PossiblyApplied { get; }

    /// <summary>The operation whose completion ends the shortest failing prefix: the first one that cannot be linearized. Null when not minimized.</summary>
    public OperationRecord? FailingOperation { get; }

    /// <summary>Operations in the shortest failing prefix (before shrinking).</summary>
    public int PrefixOperationCount { get; }

    /// <summary>False when the minimization budget ran out: the witness is valid but may not be as small as it could be.</summary>
    public bool IsMinimal { get; }

    /// <summary>Whether the operation with <paramref name="operationId"/> is among <see cref="Operations"/>.</summary>
    public bool Mentions(int operationId) => Operations.Any(o => o.Record.Id == operationId);

    public string Render(string indent = "")
    {
        var sb = new StringBuilder();
        if (FailingOperation is { } failing)
        {
            sb.Append(indent).Append("first operation that cannot be linearized: #").Append(failing.Id)
              .Append(" (c").Append(failing.Client).Append(' ').Append(failing.Operation).Append(" -> ")
              .Append(failing.DescribeOutcome()).AppendLine(")");
            sb.Append(indent).Append("shortest failing prefix: ").Append(PrefixOperationCount)
              .Append(" operations; a non-linearizable sub-history of it, ").Append(Operations.Count)
              .Append(Operations.Count == 1 ? " operation" : " operations")
              .AppendLine(IsMinimal ? ":" : " (not fully minimized: budget ran out):");
        }
        else
        {
            sb.Append(indent).Append("non-linearizable history (not minimized), ").Append(Operations.Count).AppendLine(" operations:");
        }

        foreach (var op in Operations)
        {
            sb.Append(indent).Append("  ").Append(op);
            if (FailingOperation is not null && op.Record.Id == FailingOperation.Id)
            {
                sb.Append("   <- cannot be linearized");
            }

            sb.AppendLine();
        }

        if (PossiblyApplied.Count > 0)
        {
            sb.Append(indent).Append("  with ").Append(PossiblyApplied.Count)
              .AppendLine(" other writes of the prefix assumed able to take effect at any time, any number of times:");
            foreach (var r in PossiblyApplied.Take(MaxPossiblyAppliedShown))
            {
                sb.Append(indent).Append("    ").AppendLine(r.ToString());
            }

            if (PossiblyApplied.Count > MaxPossiblyAppliedShown)
            {
                sb.Append(indent).Append("    … and ").Append(PossiblyApplied.Count - MaxPossiblyAppliedShown).AppendLine(" more");
            }
        }

        return sb.ToString();
    }

    public override string ToString() => Render();
}
