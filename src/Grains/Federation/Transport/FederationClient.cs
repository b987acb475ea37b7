using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using Microsoft.Extensions.Options;

namespace HomeServer.Grains.Federation.Transport;

/// <summary>The status and body of another server's answer.</summary>
public sealed record FederationResponse(HttpStatusCode StatusCode, byte[] Body)
{
    public bool IsSuccess => (int)StatusCode is >= 200 and < 300;
}

/// <summary>A request to another server that got no answer: refused address, TLS failure, timeout, oversized body.</summary>
public sealed class FederationRequestException(string destination, string message, Exception? inner = null)
    : Exception($"Request to {destination} failed: {message}", inner)
{
    public string Destination { get; } = destination;
}

/// <summary>
/// Sends requests to other servers: finds where each server name is served (<see cref="ServerDiscovery"/>), signs
/// the request with this server's key (<c>Authorization: X-Matrix</c>), and bounds the time and the size of the
/// answer. One instance per silo; connections are pooled per destination.
/// </summary>
public sealed class FederationClient(HttpClient http, ServerDiscovery discovery, LocalSigningKey key, LocalServer local, IOptions<FederationTransportOptions> options)
{
    /// <summary>A request signed by this server.</summary>
    /// <param name="pathAndQuery">Absolute path with its query, escaped as it is to be sent.</param>
    /// <exception cref="FederationRequestException">No answer could be had.</exception>
    public Task<FederationResponse> SendAsync(string destination, HttpMethod method, string pathAndQuery, JsonNode? content, CancellationToken cancellationToken) =>
        SendAsync(destination, method, pathAndQuery, content, sign: true, cancellationToken);

    /// <summary>An unauthenticated GET, for endpoints that need no signature (the server's keys, its version).</summary>
    public Task<FederationResponse> GetUnsignedAsync(string destination, string pathAndQuery, CancellationToken cancellationToken) =>
        SendAsync(destination, HttpMethod.Get, pathAndQuery, null, sign: false, cancellationToken);

    /// <summary>
    /// A signed GET whose answer is not read here: the caller bounds and reads the body, and disposes the response.
    /// <paramref name="cancellationToken"/> must bound the whole exchange (this does not add a timeout).
    /// </summary>
    /// <exception cref="FederationRequestException">No answer could be had.</exception>
    public async Task<HttpResponseMessage> GetStreamingAsync(string destination, string pathAndQuery, CancellationToken cancellationToken)
    {
        if (destination == local.Name) throw new ArgumentException("A server does not send federation requests to itself.", nameof(destination));
        try
        {
            var target = await discovery.ResolveAsync(destination, cancellationToken);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(target.BaseUri, pathAndQuery));
            request.Headers.Host = target.HostHeader;
            request.Headers.TryAddWithoutValidation("Authorization", RequestSigning.AuthorizationHeader(
                key.Current, destination, "GET", request.RequestUri!.PathAndQuery, null));
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException exception)
        {
            throw Failed(destination, exception);
        }
    }

    /// <summary>
    /// An unsigned GET of an absolute http(s) URL another server named (a media <c>Location</c>), through the same
    /// guarded connections (no private addresses, verified TLS, no automatic redirects). Streamed like
    /// <see cref="GetStreamingAsync"/>.
    /// </summary>
    /// <exception cref="FederationRequestException">No answer could be had.</exception>
    public async Task<HttpResponseMessage> GetUrlStreamingAsync(Uri url, CancellationToken cancellationToken)
    {
        if (!url.IsAbsoluteUri || url.Scheme is not ("https" or "http")) throw new FederationRequestException(url.Host, "not an http(s) URL");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException exception)
        {
            throw Failed(url.Host, exception);
        }
    }

    private static FederationRequestException Failed(string destination, HttpRequestException exception)
    {
        var refused = FindInner<OutboundAddressRefusedException>(exception);
        return new FederationRequestException(destination, refused?.Message ?? exception.Message, (Exception?)refused ?? exception);
    }

    private async Task<FederationResponse> SendAsync(
        string destination, HttpMethod method, string pathAndQuery, JsonNode? content, bool sign, CancellationToken cancellationToken)
    {
        if (destination == local.Name) throw new ArgumentException("A server does not send federation requests to itself.", nameof(destination));
        var settings = options.Value;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.RequestTimeout);
        try
        {
            var target = await discovery.ResolveAsync(destination, timeout.Token);
            using var request = new HttpRequestMessage(method, new Uri(target.BaseUri, pathAndQuery));
            request.Headers.Host = target.HostHeader;
            if (content is not null)
            {
                request.Content = new ByteArrayContent(CanonicalJson.Encode(content, strict: false));
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            if (sign)
            {
                // The uri signed is the one the HTTP stack writes on the request line.
                request.Headers.TryAddWithoutValidation("Authorization", RequestSigning.AuthorizationHeader(
                    key.Current, destination, method.Method, request.RequestUri!.PathAndQuery, content));
            }
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var body = await BoundedContent.ReadAsync(response.Content, settings.MaxResponseBytes, timeout.Token);
            return new FederationResponse(response.StatusCode, body);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new FederationRequestException(destination, $"no answer within {settings.RequestTimeout}", exception);
        }
        catch (HttpRequestException exception)
        {
            var refused = FindInner<OutboundAddressRefusedException>(exception);
            throw new FederationRequestException(destination, refused?.Message ?? exception.Message, (Exception?)refused ?? exception);
        }
        catch (ResponseTooLargeException exception)
        {
            throw new FederationRequestException(destination, exception.Message, exception);
        }
    }

    private static T? FindInner<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T found) return found;
        }
        return null;
    }
}
