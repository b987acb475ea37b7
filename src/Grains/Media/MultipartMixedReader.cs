using System.Text;

namespace HomeServer.Grains.Media;

/// <summary>A multipart body that does not follow RFC 2046 (truncated, no boundary line, oversized headers).</summary>
public sealed class MalformedMultipartException(string message) : Exception(message);

/// <summary>One part of a multipart body: its headers (names case-insensitive) and a stream of its bytes.</summary>
public sealed class MultipartPart(IReadOnlyDictionary<string, string> headers, Stream body)
{
    public IReadOnlyDictionary<string, string> Headers { get; } = headers;

    /// <summary>Ends at the part's closing delimiter; valid until the next part is asked for.</summary>
    public Stream Body { get; } = body;

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// Reads a <c>multipart/mixed</c> body (RFC 2046 §5.1) part by part without holding a part in memory: each part's
/// body is a stream that ends where the next delimiter (<c>CRLF--boundary</c>) starts. The preamble before the first
/// delimiter and the epilogue after the last are skipped.
/// </summary>
public sealed class MultipartMixedReader
{
    private const int BufferBytes = 64 * 1024;
    private const int MaxHeaderBytes = 16 * 1024;

    private readonly Stream _source;
    private readonly byte[] _delimiter;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;
    private bool _sourceEnded;
    private bool _finished;
    private PartStream? _current;

    public MultipartMixedReader(Stream source, string boundary)
    {
        if (boundary.Length is 0 or > 70) throw new MalformedMultipartException("A boundary has 1 to 70 characters.");
        _source = source;
        _delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        _buffer = new byte[Math.Max(BufferBytes, MaxHeaderBytes + _delimiter.Length * 2)];
        // The first delimiter may open the body without the CRLF that belongs to every other one.
        _buffer[0] = (byte)'\r';
        _buffer[1] = (byte)'\n';
        _end = 2;
        _current = new PartStream(this); // the preamble
    }

    /// <summary>The next part, or null after the closing delimiter. Whatever is left of the previous part is skipped.</summary>
    /// <exception cref="MalformedMultipartException"></exception>
    public async Task<MultipartPart?> ReadNextPartAsync(CancellationToken cancellationToken)
    {
        if (_finished) return null;
        if (_current is not null)
        {
            var skip = new byte[8192];
            while (await _current.ReadAsync(skip, cancellationToken) > 0)
            {
            }
            _current = null;
        }
        // At the delimiter: then "--" closes the body, or optional whitespace and CRLF open a part.
        await EnsureAsync(_delimiter.Length + 2, cancellationToken);
        _start += _delimiter.Length;
        if (_buffer[_start] == '-' && _buffer[_start + 1] == '-')
        {
            _finished = true;
            return null;
        }
        var boundaryLine = await ReadLineAsync(cancellationToken);
        if (boundaryLine.Any(c => c is not (' ' or '\t'))) throw new MalformedMultipartException("Unexpected text after a boundary.");

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var headerBytes = 0;
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken);
            if (line.Length == 0) break;
            headerBytes += line.Length + 2;
            if (headerBytes > MaxHeaderBytes) throw new MalformedMultipartException("A part's headers are too long.");
            var colon = line.IndexOf(':');
            if (colon <= 0) throw new MalformedMultipartException("A part header has no name.");
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        _current = new PartStream(this);
        return new MultipartPart(headers, _current);
    }

    /// <summary>The boundary parameter of a multipart/mixed Content-Type; null when it is not one.</summary>
    public static string? BoundaryOf(System.Net.Http.Headers.MediaTypeHeaderValue? contentType)
    {
        if (contentType?.MediaType is not { } type || !type.Equals("multipart/mixed", StringComparison.OrdinalIgnoreCase)) return null;
        var boundary = contentType.Parameters.FirstOrDefault(p => p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))?.Value;
        if (boundary is null) return null;
        if (boundary.Length >= 2 && boundary[0] == '"' && boundary[^1] == '"') boundary = boundary[1..^1];
        return boundary.Length is > 0 and <= 70 ? boundary : null;
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (at >= 0)
            {
                var line = Encoding.Latin1.GetString(_buffer, _start, at);
                _start += at + 2;
                return line;
            }
            if (_end - _start > MaxHeaderBytes) throw new MalformedMultipartException("A part header line is too long.");
            if (!await FillAsync(cancellationToken)) throw new MalformedMultipartException("The body ends inside a part's headers.");
        }
    }

    private async Task EnsureAsync(int count, CancellationToken cancellationToken)
    {
        while (_end - _start < count)
        {
            if (!await FillAsync(cancellationToken)) throw new MalformedMultipartException("The body ends before its closing delimiter.");
        }
    }

    /// <summary>Moves what is unread to the front and reads more; false at the end of the source.</summary>
    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_sourceEnded) return false;
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        var read = await _source.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (read == 0)
        {
            _sourceEnded = true;
            return false;
        }
        _end += read;
        return true;
    }

    /// <summary>Copies part bytes up to the next delimiter; 0 when the delimiter is next.</summary>
    private async ValueTask<int> ReadPartAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.Length == 0) return 0;
        while (true)
        {
            var available = _buffer.AsSpan(_start, _end - _start);
            var at = available.IndexOf(_delimiter);
            // Without a delimiter in view, all but its length less one byte are surely part bytes.
            var safe = at >= 0 ? at : Math.Max(0, available.Length - (_delimiter.Length - 1));
            if (safe > 0)
            {
                var count = Math.Min(safe, destination.Length);
                available[..count].CopyTo(destination.Span);
                _start += count;
                return count;
            }
            if (at == 0) return 0;
            if (!await FillAsync(cancellationToken)) throw new MalformedMultipartException("The body ends before its closing delimiter.");
        }
    }

    private sealed class PartStream(MultipartMixedReader reader) : Stream
    {
        private bool _ended;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_ended || reader._current != this) return 0;
            var read = await reader.ReadPartAsync(buffer, cancellationToken);
            if (read == 0 && buffer.Length > 0) _ended = true;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
