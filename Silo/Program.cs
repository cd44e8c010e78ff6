using System.Net;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Storage;
using Storage.Persistence;
using Storage.Silo.Hosting;

// The silo host: configuration (appsettings.json, environment, command line) -> options -> Orleans + probes.
// Content root = the binaries folder, so appsettings.json is found whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var storage = builder.Configuration.GetSection(StorageOptions.SectionName);

// The address and ports shape the host itself, so they are checked now, before it is built; every other
// options class is checked by its validator when the host starts (ValidateOnStart), reported the same way below.
var host = storage.Get<SiloHostOptions>() ?? new SiloHostOptions();
if (new SiloHostOptionsValidator().Validate(null, host) is { Failed: true } invalid)
{
    return InvalidConfiguration(invalid.Failures ?? []);
}

var siloName = host.SiloName ?? $"{Environment.MachineName}-{host.SiloPort}";
builder.WebHost.UseUrls($"http://{host.AdvertisedAddress}:{host.HttpPort}");
builder.Host.UseOrleans(silo =>
{
    silo.Configure<ClusterOptions>(o =>
    {
        o.ClusterId = host.ClusterId;
        o.ServiceId = host.ServiceId;
    });
    silo.Configure<SiloOptions>(o => o.SiloName = siloName);

    // A dead silo holds up its replicas' failover until membership declares it dead: detect in ~6 s
    // rather than Orleans' ~15 s default. Tunable under Storage:Membership (ClusterMembershipOptions).
    silo.Configure<ClusterMembershipOptions>(o =>
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(2);
        o.NumMissedProbesLimit = 3;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(5);
    });
    silo.Configure<ClusterMembershipOptions>(storage.GetSection("Membership"));
    silo.ConfigureEndpoints(IPAddress.Parse(host.AdvertisedAddress), host.SiloPort, host.GatewayPort, listenOnAnyHostAddress: true);
    silo.UseStorage(storage);
});
// A graceful stop drains the silo first (Storage:Drain:Timeout), then hands off leaders and leaves the cluster.
var drain = storage.GetSection("Drain").Get<Storage.Directory.DrainOptions>() ?? new Storage.Directory.DrainOptions();
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = (drain.OnShutdown ? drain.Timeout : TimeSpan.Zero) + TimeSpan.FromSeconds(25));

var app = builder.Build();
app.MapGet("/health/live", () => Results.Ok("live"));
app.MapGet("/health/ready", (ILocalSiloDetails local, IClusterMembershipService membership, SchemaState schema, IOptions<StorageOptions> options, IHostApplicationLifetime lifetime) =>
{
    if (lifetime.ApplicationStopping.IsCancellationRequested)
    {
        return Results.Json(new { ready = false, reason = "shutting down" }, statusCode: 503);
    }

    if (!schema.Installed)
    {
        return Results.Json(new { ready = false, reason = "schema not installed yet" }, statusCode: 503);
    }

    var status = membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress);
    return status == SiloStatus.Active
        ? Results.Ok(new { ready = true, silo = local.SiloAddress.ToString(), region = options.Value.Region, zone = options.Value.Zone })
        : Results.Json(new { ready = false, reason = $"silo is {status}" }, statusCode: 503);
});

try
{
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (ValidationFailures(e) is { Count: > 0 } failures)
{
    return InvalidConfiguration(failures);
}
catch (Exception e) when (Find<DatabaseUnavailableException>(e) is { } db)
{
    // The message names host, port and database, never the password.
    Console.Error.WriteLine($"storage silo: {db.Message}");
    return 3;
}

// Exit 2 with one line per problem, each naming its setting.
static int InvalidConfiguration(IEnumerable<string> failures)
{
    foreach (var failure in failures)
    {
        Console.Error.WriteLine($"storage silo: invalid configuration: {failure}");
    }

    return 2;
}

// The host throws one OptionsValidationException per options class that failed, several in an AggregateException.
static List<string> ValidationFailures(Exception e) => e switch
{
    OptionsValidationException validation => [.. validation.Failures],
    AggregateException aggregate => [.. aggregate.InnerExceptions.SelectMany(ValidationFailures)],
    _ => [],
};

static T? Find<T>(Exception? e) where T : Exception
{
    for (; e is not null; e = e.InnerException)
    {
        if (e is T match)
        {
            return match;
        }

        if (e is AggregateException { InnerExceptions.Count: > 0 } aggregate && Find<T>(aggregate.InnerExceptions[0]) is { } inner)
        {
            return inner;
        }
    }

    return null;
}
