namespace Ketch.Mvcc;

/// <summary>What a pull under the store's lock produced.</summary>
internal enum PullStep
{
    /// <summary>A response to return.</summary>
    Response,

    /// <summary>Nothing yet: wait for the queue.</summary>
    Wait,

    /// <summary>Progress made without a response: pull again.</summary>
    Again,

    /// <summary>The watcher is cancelled and drained.</summary>
    Finished,
}
