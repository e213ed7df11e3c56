namespace Ketch.Raft.Storage;

/// <summary>A value, or the <see cref="StorageError"/> that explains why there is none.</summary>
/// <typeparam name="T">The value's type.</typeparam>
public readonly struct StorageResult<T>
{
    private readonly T _value;

    private StorageResult(T value, StorageError error)
    {
        _value = value;
        Error = error;
    }

    /// <summary>Why there is no value, or <see cref="StorageError.None"/>.</summary>
    public StorageError Error { get; }

    /// <summary>True when <see cref="Value"/> holds a value.</summary>
    public bool IsOk => Error == StorageError.None;

    /// <summary>The value; throws when there is none, since reading it then is a bug.</summary>
    public T Value => IsOk ? _value : throw new InvalidOperationException($"storage result holds no value: {Error}");

    /// <summary>A successful result.</summary>
    public static StorageResult<T> Ok(T value) => new(value, StorageError.None);

    /// <summary>A failed result.</summary>
    public static StorageResult<T> Fail(StorageError error) =>
        error == StorageError.None ? throw new ArgumentException("a failure needs an error", nameof(error)) : new(default!, error);

    /// <summary>Implicit conversion of a value to a successful result.</summary>
    public static implicit operator StorageResult<T>(T value) => Ok(value);

    /// <inheritdoc />
    public override string ToString() => IsOk ? $"Ok({_value})" : Error.ToString();
}
