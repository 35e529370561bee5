namespace EtcdServerless.Core.Orchestration;

/// <summary>A serializable description of an exception (activity or orchestration failure), like Durable's <c>TaskFailureDetails</c>.</summary>
internal sealed record FailureDetails(string ErrorType, string ErrorMessage, string? StackTrace = null, FailureDetails? InnerFailure = null)
{
    /// <summary>Captures <paramref name="exception"/> and its inner exceptions.</summary>
    public static FailureDetails FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is ActivityFailedException activityFailed)
        {
            // Keep the activity's own failure visible instead of burying it under the wrapper.
            return new FailureDetails(
                exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.StackTrace, activityFailed.FailureDetails);
        }

        return new FailureDetails(
            exception.GetType().FullName ?? exception.GetType().Name,
            exception.Message,
            exception.StackTrace,
            exception.InnerException is { } inner ? FromException(inner) : null);
    }

    /// <summary>True when this failure (or an inner one) is of the given exception type.</summary>
    public bool IsCausedBy<TException>()
        where TException : Exception =>
        string.Equals(ErrorType, typeof(TException).FullName, StringComparison.Ordinal) || (InnerFailure?.IsCausedBy<TException>() ?? false);
}
