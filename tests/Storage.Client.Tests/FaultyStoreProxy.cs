using System.Reflection;

namespace Storage.Client.Tests;

/// <summary>
/// An <see cref="IStore"/> made at run time with <see cref="DispatchProxy"/> that routes calls through
/// <see cref="StoreFaults"/>. A runtime proxy rather than a class implementing IStore: Orleans' code generator
/// would register such a class as a second grain type for the interface and break the cluster's routing.
/// </summary>
public class FaultyStoreProxy : DispatchProxy
{
    private IStore _inner = null!;
    private StoreFaults _faults = null!;

    public static IStore Create(IStore inner, StoreFaults faults)
    {
        var proxy = Create<IStore, FaultyStoreProxy>();
        var self = (FaultyStoreProxy)(object)proxy;
        self._inner = inner;
        self._faults = faults;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        var a = args ?? Array.Empty<object?>();
        switch (targetMethod.Name)
        {
            case nameof(IStore.PutAsync):
                return _faults.WriteAsync("put", (string)a[0]!, (WriteId)a[2]!, () => _inner.PutAsync((string)a[0]!, (byte[])a[1]!, (WriteId)a[2]!));
            case nameof(IStore.DeleteAsync):
                return _faults.WriteAsync("delete", (string)a[0]!, (WriteId)a[1]!, () => _inner.DeleteAsync((string)a[0]!, (WriteId)a[1]!));
            case nameof(IStore.CompareAndSwapAsync):
                return _faults.WriteAsync("cas", (string)a[0]!, (WriteId)a[3]!, () => _inner.CompareAndSwapAsync((string)a[0]!, (long)a[1]!, (byte[])a[2]!, (WriteId)a[3]!));
            case nameof(IStore.GetAsync):
                _faults.Count("get");
                break;
            case nameof(IStore.ScanAsync):
                _faults.Count("scan");
                break;
            case nameof(IStore.GetStatusAsync):
                _faults.Count("status");
                break;
            case nameof(IStore.DrainAsync):
                return _faults.OperatorCallAsync("drain", async () =>
                {
                    await _inner.DrainAsync((string)a[0]!);
                    return true;
                });
            case nameof(IStore.UndrainAsync):
                return _faults.OperatorCallAsync("undrain", async () =>
                {
                    await _inner.UndrainAsync((string)a[0]!);
                    return true;
                });
            case nameof(IStore.ReplaceReplicaAsync):
                return _faults.OperatorCallAsync("replace", () => _inner.ReplaceReplicaAsync((int)a[0]!, (long)a[1]!, (string)a[2]!));
            case nameof(IStore.SplitAsync):
                return _faults.OperatorCallAsync("split", () => _inner.SplitAsync((int)a[0]!, (ulong?)a[1]));
        }

        return targetMethod.Invoke(_inner, args);
    }
}
