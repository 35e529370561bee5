using EtcdServerless.Core.Orchestration;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace EtcdServerless.Workflows.Hosting;

/// <summary>
/// The Durable Task activity that runs one Core step (<see cref="IActivity{TInput, TOutput}"/>, registered as a
/// keyed service under the activity's name): the step does the I/O, this class only adapts it to
/// <see cref="TaskActivity{TInput, TOutput}"/> so every host schedules it by name.
/// </summary>
internal sealed class StepActivity<TInput, TOutput>(IServiceProvider services) : TaskActivity<TInput, TOutput>
{
    public override Task<TOutput> RunAsync(TaskActivityContext context, TInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        return services.GetRequiredKeyedService<IActivity<TInput, TOutput>>(context.Name.Name).RunAsync(input, ActivityCancellation.Of(context));
    }
}

/// <summary>
/// Durable activities get no cancellation token; the in-process engine passes its shutdown token through its own
/// activity context so Ctrl+C stops a running capture instead of abandoning it.
/// </summary>
internal static class ActivityCancellation
{
    public static CancellationToken Of(TaskActivityContext context) =>
        context is ICancellableActivityContext cancellable ? cancellable.CancellationToken : CancellationToken.None;
}

/// <summary>An activity context that carries the host's cancellation token.</summary>
internal interface ICancellableActivityContext
{
    CancellationToken CancellationToken { get; }
}
