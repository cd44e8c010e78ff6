using System.Net;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Storage.Silo.Hosting;

// The silo host: configuration (appsettings.json, environment, command line) -> options -> Orleans + probes.
// Content root = the binaries folder, so appsettings.json is found whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var options = builder.Configuration.GetSection("Storage").Get<StorageSiloOptions>() ?? new StorageSiloOptions();
var errors = options.Validate();
if (errors.Count > 0)
{
    foreach (var error in errors)
    {
        Console.Error.WriteLine($"storage silo: invalid configuration: {error}");
    }

    return 2;
}

EmbeddedPostgres? embedded = null;
var connectionString = options.ConnectionString;
if (string.IsNullOrWhiteSpace(connectionString))
{
    // No database given: start (or reuse) the embedded default from the machine's PostgreSQL binaries.
    try
    {
        embedded = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = Path.GetFullPath(options.DataDirectory) });
    }
    catch (EmbeddedPostgresException e)
    {
        Console.Error.WriteLine($"storage silo: no Storage:ConnectionString given and the embedded PostgreSQL could not start: {e.Message}");
        return 3;
    }

    connectionString = embedded.ConnectionString;
}

var siloName = options.SiloName ?? $"{Environment.MachineName}-{options.SiloPort}";
builder.WebHost.UseUrls($"http://{options.AdvertisedAddress}:{options.HttpPort}");
builder.Host.UseOrleans(silo =>
{
    silo.Configure<ClusterOptions>(o =>
    {
        o.ClusterId = options.ClusterId;
        o.ServiceId = options.ServiceId;
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
    silo.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Storage:Membership"));
    silo.ConfigureEndpoints(IPAddress.Parse(options.AdvertisedAddress), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
    silo.UseStorage(connectionString, options.Region, options.Zone, builder.Configuration);
});
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(25));

var app = builder.Build();
app.MapGet("/health/live", () => Results.Ok("live"));
app.MapGet("/health/ready", (ILocalSiloDetails local, IClusterMembershipService membership, SchemaState schema, IHostApplicationLifetime lifetime) =>
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
        ? Results.Ok(new { ready = true, silo = local.SiloAddress.ToString(), region = options.Region, zone = options.Zone })
        : Results.Json(new { ready = false, reason = $"silo is {status}" }, statusCode: 503);
});

try
{
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is OptionsValidationException or ArgumentException)
{
    Console.Error.WriteLine($"storage silo: invalid configuration: {e.Message}");
    return 2;
}
catch (Exception e) when (Find<Storage.Persistence.DatabaseUnavailableException>(e) is { } db)
{
    // The message names host, port and database, never the password.
    Console.Error.WriteLine($"storage silo: {db.Message}");
    return 3;
}
finally
{
    if (embedded is not null)
    {
        await embedded.DisposeAsync();
    }
}

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
