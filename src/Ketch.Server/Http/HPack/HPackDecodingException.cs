namespace Ketch.Server.Http.HPack;

/// <summary>
/// A header block that cannot be decoded: a COMPRESSION_ERROR, which RFC 9113 §4.3 makes a
/// connection error (the decoder's state can no longer be trusted).
/// </summary>
internal sealed class HPackDecodingException(string message) : Exception(message);
