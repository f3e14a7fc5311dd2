using Issuer2.Grpc.V1;

namespace Issuer2.BrowserConsole.Services;

/// <summary>
/// The offer URL, PIN and QR code exist only in CreateOffer's answer (the server keeps no copy of the PIN): the
/// console holds the answers of this tab's session in memory so the offer's page can show them.
/// </summary>
internal sealed class CreatedOffers
{
    private readonly Dictionary<string, CreateOfferResponse> _byName = new(StringComparer.Ordinal);

    public void Add(CreateOfferResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        _byName[response.Offer.Name] = response;
    }

    public CreateOfferResponse? Find(string offerName) => _byName.GetValueOrDefault(offerName);
}
