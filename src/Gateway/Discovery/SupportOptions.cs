namespace HomeServer.Gateway.Discovery;

/// <summary>Who to contact about this server, as <c>/.well-known/matrix/support</c> publishes it (404 when nothing is set).</summary>
public sealed class SupportOptions
{
    public const string SectionName = "Support";

    public List<SupportContact> Contacts { get; set; } = [];

    /// <summary>A web page with support information.</summary>
    public string? SupportPage { get; set; }

    public bool IsEmpty => Contacts.Count == 0 && string.IsNullOrEmpty(SupportPage);

    public IEnumerable<string> Validate()
    {
        for (var i = 0; i < Contacts.Count; i++)
        {
            var contact = Contacts[i];
            if (string.IsNullOrWhiteSpace(contact.Role))
                yield return $"Support:Contacts:{i}:Role is required (m.role.admin, m.role.security or a namespaced role).";
            if (string.IsNullOrEmpty(contact.MatrixId) && string.IsNullOrEmpty(contact.EmailAddress))
                yield return $"Support:Contacts:{i} needs MatrixId or EmailAddress.";
            if (!string.IsNullOrEmpty(contact.MatrixId) && !Grains.Identifiers.UserId.IsValid(contact.MatrixId))
                yield return $"Support:Contacts:{i}:MatrixId is not a user id (got '{contact.MatrixId}').";
        }
        if (!string.IsNullOrEmpty(SupportPage) && !Uri.TryCreate(SupportPage, UriKind.Absolute, out _))
            yield return $"Support:SupportPage must be an absolute URL (got '{SupportPage}').";
    }
}

public sealed class SupportContact
{
    public string? MatrixId { get; set; }
    public string? EmailAddress { get; set; }
    public string? Role { get; set; }
}
