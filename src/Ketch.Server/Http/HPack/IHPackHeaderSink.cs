namespace Ketch.Server.Http.HPack;

/// <summary>Receives the fields of a header block, in order, as <see cref="HPackDecoder"/> decodes them.</summary>
internal interface IHPackHeaderSink
{
    /// <summary>One decoded field. The spans are valid only during the call.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="value">The field value.</param>
    /// <param name="staticNameIndex">The static-table index whose name equals <paramref name="name"/>
    /// when the representation (or the dynamic entry it used) named it by a static index; else 0.</param>
    /// <param name="neverIndexed">The field came as "never indexed" (RFC 7541 §6.2.3): an
    /// intermediary must forward it the same way (§7.1.3).</param>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int staticNameIndex, bool neverIndexed);
}
