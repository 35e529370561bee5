using System.Diagnostics.Metrics;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Monitoring;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Infrastructure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry.Metrics;

namespace EtcdServerless.Functions.Tests;

/// <summary>The freshness monitor timer and the Application Insights export switch, on a real local store.</summary>
public sealed class MonitorFunctionsTests : IDisposable
{
    private readonly TempDirectory _temp = new("fx-monitor");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Run_FailureRecordAndNoBackup_GaugesShowTheFailureAndStale()
    {
        // A cluster name of its own: a MeterListener hears every BackupMetrics of the test process.
        const string Cluster = "fx-monitor-stale";
        var store = new LocalDirectoryBackupStore(_temp.Combine("store"), TimeSpan.Zero);
        var failed = new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);
        await BackupFailureRecords.WriteAsync(store, new BackupFailureRecord
        {
            Cluster = Cluster, Failed = failed, Started = failed.AddSeconds(-3), Phase = "capture", Reason = "unreachable", Trigger = "Scheduled",
        });
        var options = new EtcdBackupOptions { Clusters = { [Cluster] = new ClusterOptions { Endpoints = ["http://127.0.0.1:1"], MaxAge = TimeSpan.FromHours(1) } } };
        var clock = new FakeTimeProvider(failed.AddMinutes(30));
        using var metrics = new BackupMetrics();
        var function = new MonitorFunctions(options, new BackupStatusReader(store, options, clock), metrics, NullLogger<MonitorFunctions>.Instance);

        await function.RunAsync(new TimerInfo(), new TestFunctionContext("FreshnessMonitor"));

        var seen = Observe(Cluster);
        Assert.Equal(failed.ToUnixTimeSeconds(), seen[BackupMetrics.LastFailureTimestamp]);
        Assert.Equal(1, seen[BackupMetrics.Stale]);
        Assert.False(seen.ContainsKey(BackupMetrics.LastSuccessTimestamp));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:1/", true)]
    public async Task AddEtcdBackupFunctionsAsync_ConnectionString_ExportsTheMeterOnlyWhenSet(string? connectionString, bool exported)
    {
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Uri"] = new Uri(_temp.Combine("store")).AbsoluteUri,
            ["Keys:Uri"] = new Uri(_temp.Combine("keys")).AbsoluteUri,
            ["Clusters:fx:Endpoints:0"] = "http://127.0.0.1:1",
            ["Api:ApiKey"] = Workflows.Http.ApiKey.Generate(),
            [FunctionsComposition.AppInsightsConnectionStringSetting] = connectionString,
        }).Build();

        await using var provider = (await new ServiceCollection().AddEtcdBackupFunctionsAsync(settings)).BuildServiceProvider();

        Assert.Equal(exported, provider.GetService<MeterProvider>() is not null);
    }

    private static Dictionary<string, double> Observe(string cluster)
    {
        var seen = new Dictionary<string, double>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == BackupMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == BackupMetrics.ClusterTag && Equals(tag.Value, cluster))
                {
                    seen[instrument.Name] = value;
                }
            }
        }

        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }
}
