using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Discovery;
using HomeServer.Gateway.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Endpoints;

/// <summary><c>GET /.well-known/matrix/support</c> (client-server/support.yaml) from <see cref="SupportOptions"/>.</summary>
internal static class SupportEndpoints
{
    public static void MapSupportEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/.well-known/matrix/support", GetSupport);

    private static IResult GetSupport([FromServices] IOptions<SupportOptions> options)
    {
        var support = options.Value;
        if (support.IsEmpty) throw new MatrixException(StatusCodes.Status404NotFound, "M_NOT_FOUND", "No support information is configured.");
        return JsonWriterResult.Of(writer =>
        {
            writer.WriteStartObject();
            if (support.Contacts.Count > 0)
            {
                writer.WriteStartArray("contacts"u8);
                foreach (var contact in support.Contacts)
                {
                    writer.WriteStartObject();
                    if (!string.IsNullOrEmpty(contact.MatrixId)) writer.WriteString("matrix_id"u8, contact.MatrixId);
                    if (!string.IsNullOrEmpty(contact.EmailAddress)) writer.WriteString("email_address"u8, contact.EmailAddress);
                    writer.WriteString("role"u8, contact.Role);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            }
            if (!string.IsNullOrEmpty(support.SupportPage)) writer.WriteString("support_page"u8, support.SupportPage);
            writer.WriteEndObject();
        });
    }
}
