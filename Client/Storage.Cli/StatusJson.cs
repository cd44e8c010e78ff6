using System.Text;
using System.Text.Json;

namespace Storage.Cli;

/// <summary>
/// <c>storage status --json</c>: one JSON object for scripts. The shape is part of the CLI's contract (documented in
/// docs/client-usage.md): keys are camelCase, new keys may be added, existing ones keep their name and meaning.
/// </summary>
internal static class StatusJson
{
    public static string Write(ClusterStatus status, JsonWriterOptions options)
    {
        var counts = SiloCounts.Of(status);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, options))
        {
            json.WriteStartObject();
            json.WriteNumber("shardMapVersion", status.ShardMapVersion);
            var draining = status.Draining ?? [];
            json.WriteStartArray("silos");
            foreach (var silo in status.Silos)
            {
                var count = SiloCounts.For(counts, silo);
                json.WriteStartObject();
                json.WriteString("address", silo.Address);
                json.WriteString("name", silo.Name);
                json.WriteString("region", silo.Region);
                json.WriteString("zone", silo.Zone);
                json.WriteString("state", silo.State);
                json.WriteNumber("replicas", count.Replicas);
                json.WriteNumber("leaders", count.Leaders);
                json.WriteBoolean("draining", draining.Contains(silo.Name, StringComparer.Ordinal));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("draining");
            foreach (var silo in draining)
            {
                json.WriteStringValue(silo);
            }

            json.WriteEndArray();
            json.WriteStartArray("moves");
            foreach (var move in (status.Moves ?? []).OrderBy(m => m.StartedAt).ThenBy(m => m.ShardId))
            {
                json.WriteStartObject();
                json.WriteNumber("shardId", move.ShardId);
                json.WriteNumber("replicaId", move.ReplicaId);
                json.WriteString("from", move.From);
                json.WriteString("to", move.To);
                json.WriteString("kind", move.Kind == MoveKind.Relocate ? "relocate" : "replace");
                json.WriteNumber("mapVersion", move.MapVersion);
                json.WriteString("startedAt", DateTime.SpecifyKind(move.StartedAt, DateTimeKind.Utc));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("shards");
            foreach (var shard in status.Shards.OrderBy(s => s.ShardId))
            {
                json.WriteStartObject();
                json.WriteNumber("shardId", shard.ShardId);
                if (shard.LeaderReplica == 0)
                {
                    json.WriteNull("leader");
                }
                else
                {
                    json.WriteNumber("leader", shard.LeaderReplica);
                }

                json.WriteStartArray("replicas");
                foreach (var replica in shard.Replicas.OrderBy(r => r.ReplicaId))
                {
                    json.WriteStartObject();
                    json.WriteNumber("replicaId", replica.ReplicaId);
                    json.WriteString("silo", replica.Silo);
                    json.WriteBoolean("reachable", replica.Reachable);
                    if (replica.Reachable)
                    {
                        json.WriteString("role", replica.Role);
                        json.WriteBoolean("learner", replica.IsLearner);
                        json.WriteNumber("term", replica.Term);
                        json.WriteNumber("commitIndex", replica.CommitIndex);
                        json.WriteNumber("appliedIndex", replica.AppliedIndex);
                        json.WriteNumber("applyLag", replica.ApplyLag);
                        json.WriteNumber("incarnation", replica.Incarnation);
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
