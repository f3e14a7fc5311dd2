using System.Security.Cryptography;
using System.Text.Json;
using Issuer2.Core.Claims;
using Issuer2.Core.Common;
using Issuer2.Core.Events;
using Issuer2.Core.Profiles;
using Issuer2.Core.Security;
using Issuer2.Core.Tenants;

namespace Issuer2.Core.Offers;

/// <summary>How to protect a pre-authorized offer with a PIN.</summary>
public sealed record TxCodeOptions(string? Value, int Length, TxCodeInputMode? InputMode, string? Description);

/// <summary>What a caller asks for when creating an offer; null means the default.</summary>
public sealed record CreateOfferCommand(
    string ProfileId,
    AuthenticationMethod? Method,
    DeliveryMode? Delivery,
    TimeSpan? Lifetime,
    DateTimeOffset? ExpireTime,
    int MaxUses,
    TxCodeOptions? TxCode,
    IReadOnlyList<ClaimValue> Overrides,
    IssuerStateMode? IssuerStateMode,
    string? RequestId,
    bool IncludeQrCode);

/// <summary>A created (or replayed) offer: the record, its URL and the PIN, the last two shown only now.</summary>
public sealed record CreatedOffer(Offer Offer, string OfferUrl, string? Pin);

/// <summary>Use cases of offer management (a tenant key's).</summary>
public sealed class OfferManagement(
    ITenantStore tenants, IProfileStore profiles, IOfferStore offers, IEventLog events, IUnitOfWork unit,
    KeyRing keys, QuotaLimits quotas, TimeProvider clock)
{
    private readonly SecretProtector _pins = keys.Protector(KeyPurpose.PinHashes);
    private readonly SecretProtector _replays = keys.Protector(KeyPurpose.ReplayCopies);

    public static readonly TimeSpan RequestIdRetention = TimeSpan.FromHours(24);
    public const int MaxUsesLimit = 10_000;
    public const int DefaultPinLength = 6;

    public async Task<Result<CreatedOffer, Error>> CreateAsync(Caller caller, string tenantId, CreateOfferCommand command, CancellationToken ct)
    {
        if (Access.RequireTenant(caller, tenantId, ResourceNames.Tenant(tenantId)) is { } denied) return denied;
        var tenant = await tenants.FindAsync(tenantId, ct);
        if (tenant is null) return Error.NotFound(ResourceNames.Tenant(tenantId));

        // A retry with a known request_id answers from the record, before anything else is checked or written.
        var requestId = string.IsNullOrEmpty(command.RequestId) ? null : command.RequestId;
        if (requestId is not null && requestId.Length > 128) return Error.Invalid("request_id", "must be at most 128 characters");
        var canonical = Canonical(command);
        var now = clock.UtcNow();
        OfferRequest? expiredRequest = null;
        if (requestId is not null)
        {
            var previous = await offers.FindRequestAsync(tenantId, requestId, ct);
            if (previous is not null && previous.ExpiresAt > now) return await ReplayAsync(tenantId, previous, canonical, ct);
            expiredRequest = previous;
        }

        var profile = await profiles.FindAsync(tenantId, command.ProfileId, ct);
        if (profile is null) return Error.Invalid("profile", $"the profile \"{command.ProfileId}\" does not exist in this tenant");

        var checkedCommand = Check(tenant, profile.Definition, command, quotas.ClaimValues, now);
        if (!checkedCommand.IsSuccess) return checkedCommand.Error;
        var c = checkedCommand.Value;

        var offerId = Ids.New();
        string? pin = null;
        byte[]? pinHash = null;
        if (c.TxCode is { } tx)
        {
            pin = string.IsNullOrEmpty(tx.Value) ? Secrets.NewNumericPin(tx.Length) : tx.Value;
            pinHash = _pins.KeyedHash(Offer.PinContext(tenantId, offerId), pin);
        }

        string offerUrl;
        byte[]? uriTokenHash = null;
        PreAuthorizedCode? code = null;
        IssuerState? issuerState = null;
        if (c.Delivery == DeliveryMode.ByReference)
        {
            // Each resolution mints what the wallet needs (ResolveOffer): a code, or an issuer_state.
            var uriToken = Secrets.NewToken();
            uriTokenHash = Secrets.Hash(uriToken);
            offerUrl = CredentialOfferDocument.ByReferenceUrl(CredentialOfferDocument.OfferUri(tenant.CredentialIssuer, uriToken));
        }
        else if (c.Method == AuthenticationMethod.Authorized)
        {
            // OID4VCI §4.1.1: the URL carries the one issuer_state (INCLUDE), valid for each of the offer's uses until it expires.
            string? plainState = null;
            if (c.IssuerStateMode == IssuerStateMode.Include)
            {
                plainState = Secrets.NewToken();
                issuerState = new IssuerState
                {
                    StateHash = Secrets.Hash(plainState), TenantId = tenantId, OfferId = offerId, SingleUse = false, CreatedAt = now, ExpiresAt = c.ExpiresAt,
                };
            }
            offerUrl = CredentialOfferDocument.ByValueUrl(CredentialOfferDocument.AuthorizationCode(tenant.CredentialIssuer, profile.ProfileId, plainState));
        }
        else
        {
            // OID4VCI §4.1.1: the code travels in the URL, so the offer is single-use and lives as long as the code.
            var plainCode = Secrets.NewToken();
            code = new PreAuthorizedCode
            {
                CodeHash = Secrets.Hash(plainCode), TenantId = tenantId, OfferId = offerId, CreatedAt = now, ExpiresAt = c.ExpiresAt,
            };
            var txCode = c.TxCode is null ? null : new CredentialOfferDocument.TxCode(c.PinInputMode, pin!.Length, c.TxCode.Description);
            offerUrl = CredentialOfferDocument.ByValueUrl(
                CredentialOfferDocument.PreAuthorized(tenant.CredentialIssuer, profile.ProfileId, plainCode, txCode));
        }

        var offer = new Offer
        {
            Id = offerId,
            TenantId = tenantId,
            ProfileId = profile.ProfileId,
            ProfileUid = profile.Uid,
            ProfileVersion = profile.Version,
            Method = c.Method,
            Delivery = c.Delivery,
            IssuerStateMode = c.IssuerStateMode,
            UriTokenHash = uriTokenHash,
            PinHash = pinHash,
            PinInputMode = pin is null ? null : c.PinInputMode,
            PinLength = pin?.Length,
            PinDescription = string.IsNullOrEmpty(c.TxCode?.Description) ? null : c.TxCode.Description,
            MaxUses = c.MaxUses,
            Overrides = [.. command.Overrides],
            CreatedAt = now,
            ExpiresAt = c.ExpiresAt,
            RequestId = requestId,
        };
        offers.Add(offer);
        if (code is not null) offers.Add(code);
        if (issuerState is not null) offers.Add(issuerState);
        if (requestId is not null)
        {
            var replay = _replays.Encrypt(JsonSerializer.SerializeToUtf8Bytes(new Replay(offerUrl, pin), CoreJson.Options), ReplayContext(tenantId, requestId));
            var fingerprint = _replays.KeyedHash(FingerprintContext(tenantId), canonical);
            if (expiredRequest is null)
            {
                offers.Add(new OfferRequest
                {
                    TenantId = tenantId, RequestId = requestId, Fingerprint = fingerprint, OfferId = offerId, EncryptedReplay = replay,
                    CreatedAt = now, ExpiresAt = now + RequestIdRetention,
                });
            }
            else
            {
                expiredRequest.Fingerprint = fingerprint;
                expiredRequest.OfferId = offerId;
                expiredRequest.EncryptedReplay = replay;
                expiredRequest.CreatedAt = now;
                expiredRequest.ExpiresAt = now + RequestIdRetention;
            }
        }
        events.Append(IssuerEvent.Create(tenantId, EventTypes.OfferCreated, now,
            new EventDetails.OfferCreated(profile.Version, offer.Method, offer.Delivery, offer.MaxUses, offer.PinRequired, offer.ExpiresAt),
            offerId, profileId: profile.ProfileId, actor: caller));

        try
        {
            // Over the quota nothing is written: no offer, no event, no request record to replay.
            if (await unit.SaveWithinQuotasAsync([QuotaCheck.Of(quotas, Quota.LiveOffers, tenantId, now)], ct) is { } exceeded)
                return Quotas.Exceeded(exceeded);
        }
        catch (UniqueConflictException) when (requestId is not null)
        {
            // A concurrent create with the same request_id won: answer as its retry.
            unit.Reset();
            var winner = await offers.FindRequestAsync(tenantId, requestId, ct);
            if (winner is null) throw;
            return await ReplayAsync(tenantId, winner, canonical, ct);
        }
        return new CreatedOffer(offer, offerUrl, pin);
    }

    public async Task<Result<Offer, Error>> GetAsync(Caller caller, string tenantId, string offerId, CancellationToken ct)
    {
        var name = ResourceNames.Child(tenantId, ResourceNames.Offers, offerId);
        if (Access.RequireTenant(caller, tenantId, name) is { } denied) return denied;
        var offer = await offers.FindAsync(tenantId, offerId, ct);
        return offer is null ? Error.NotFound(name) : offer;
    }

    public async Task<Result<Page<Offer>, Error>> ListAsync(
        Caller caller, string tenantId, OfferState? state, string? profileId, int pageSize, string? pageToken, PageBudget<Offer> budget, CancellationToken ct)
    {
        if (Access.RequireTenant(caller, tenantId, ResourceNames.Tenant(tenantId)) is { } denied) return denied;
        var size = PageSizes.Of(ListKind.Offers, pageSize);
        if (!size.IsSuccess) return size.Error;
        var scope = $"offers/{tenantId}/{state}/{profileId}";
        var position = PageTokens.Decode(pageToken, scope);
        if (!position.IsSuccess) return position.Error;

        var after = PageTokens.ParseTimeKey(position.Value);
        if (!after.IsSuccess) return after.Error;
        var page = await offers.ListAsync(new OfferQuery(tenantId, state, profileId, clock.UtcNow(), after.Value, size.Value + 1), ct);
        var (items, more) = PageSizes.Cut(page, size.Value, budget);
        var next = more ? PageTokens.Encode(scope, PageTokens.TimeKey(items[^1].CreatedAt, items[^1].Id)) : "";
        return new Page<Offer>(items, next);
    }

    public async Task<Result<Offer, Error>> RevokeAsync(Caller caller, string tenantId, string offerId, CancellationToken ct)
    {
        var name = ResourceNames.Child(tenantId, ResourceNames.Offers, offerId);
        if (Access.RequireTenant(caller, tenantId, name) is { } denied) return denied;
        var offer = await offers.FindAsync(tenantId, offerId, ct);
        if (offer is null) return Error.NotFound(name);
        if (offer.RevokedAt is not null) return Error.Precondition(ErrorReasons.OfferNotActive, "The offer is already revoked.");
        var now = clock.UtcNow();
        Revoke(events, offer, now, "revoked", caller);
        try
        {
            await unit.SaveChangesAsync(ct);
        }
        catch (ConcurrencyConflictException)
        {
            // Revoked by a concurrent request: once, with one event, which was not this one.
            unit.Reset();
            return Error.Precondition(ErrorReasons.OfferNotActive, "The offer is already revoked.");
        }
        return offer;
    }

    public async Task<Result<Page<SessionView>, Error>> ListSessionsAsync(Caller caller, string tenantId, string offerId, int pageSize, string? pageToken, PageBudget<SessionView> budget, CancellationToken ct)
    {
        var name = ResourceNames.Child(tenantId, ResourceNames.Offers, offerId);
        if (Access.RequireTenant(caller, tenantId, name) is { } denied) return denied;
        var size = PageSizes.Of(ListKind.OfferSessions, pageSize);
        if (!size.IsSuccess) return size.Error;
        var scope = $"sessions/{tenantId}/{offerId}";
        var position = PageTokens.Decode(pageToken, scope);
        if (!position.IsSuccess) return position.Error;
        var after = PageTokens.ParseTimeKey(position.Value);
        if (!after.IsSuccess) return after.Error;
        if (await offers.FindAsync(tenantId, offerId, ct) is null) return Error.NotFound(name);

        var page = await offers.ListSessionsAsync(tenantId, offerId, after.Value, size.Value + 1, ct);
        var (items, more) = PageSizes.Cut(page, size.Value, budget);
        var next = more ? PageTokens.Encode(scope, PageTokens.TimeKey(items[^1].Session.CreatedAt, items[^1].Session.Id)) : "";
        return new Page<SessionView>(items, next);
    }

    /// <summary>Marks an offer revoked and appends its event; the caller commits.</summary>
    public static void Revoke(IEventLog events, Offer offer, DateTimeOffset now, string cause, Caller caller)
    {
        offer.RevokedAt = now;
        events.Append(IssuerEvent.Create(
            offer.TenantId, EventTypes.OfferRevoked, now, new EventDetails.OfferRevoked(cause), offer.Id, profileId: offer.ProfileId, actor: caller));
    }

    private sealed record Replay(string OfferUrl, string? Pin);

    private sealed record CheckedCommand(
        AuthenticationMethod Method, DeliveryMode Delivery, IssuerStateMode IssuerStateMode, DateTimeOffset ExpiresAt, int MaxUses,
        TxCodeOptions? TxCode, TxCodeInputMode PinInputMode);

    internal static string ReplayContext(string tenantId, string requestId) => $"offer-request/{tenantId}/{requestId}";

    private async Task<Result<CreatedOffer, Error>> ReplayAsync(string tenantId, OfferRequest previous, string canonical, CancellationToken ct)
    {
        // Note: compared under the key version the stored fingerprint names, so a rotation does not turn a retry into a conflict.
        if (!_replays.KeyedHashEquals(FingerprintContext(tenantId), canonical, previous.Fingerprint))
            return Error.AlreadyExists(ErrorReasons.RequestIdConflict, "This request_id was used with other parameters within the last 24 hours.");
        var replay = JsonSerializer.Deserialize<Replay>(_replays.Decrypt(previous.EncryptedReplay, ReplayContext(tenantId, previous.RequestId)), CoreJson.Options)!;
        var offer = await offers.FindAsync(tenantId, previous.OfferId, ct)
            ?? throw new InvalidOperationException("A create request names an offer that does not exist.");
        return new CreatedOffer(offer, replay.OfferUrl, replay.Pin);
    }

    /// <summary>The context of a create request's fingerprint.</summary>
    private static string FingerprintContext(string tenantId) => $"offer-request-fingerprint/{tenantId}";

    /// <summary>
    /// The parameters of a create, request_id aside: equal texts mean "the same request". Stored as a keyed hash (the
    /// fingerprint, HMAC under the key ring), because the parameters may hold a caller's PIN, which a plain hash would
    /// give away to anyone who reads the database and tries every short PIN.
    /// </summary>
    private static string Canonical(CreateOfferCommand command)
    {
        // Overrides by their raw JSON: a missing value (refused later) must not break the fingerprint.
        var canonical = new
        {
            Command = command with { RequestId = null, Overrides = [] },
            Overrides = command.Overrides.Select(o => new { o.Path, Value = o.Value.ValueKind == JsonValueKind.Undefined ? null : o.Value.GetRawText() }),
        };
        return JsonSerializer.Serialize(canonical, CoreJson.Options);
    }

    private static Result<CheckedCommand, Error> Check(Tenant tenant, ProfileDefinition profile, CreateOfferCommand c, ClaimValueBounds bounds, DateTimeOffset now)
    {
        var method = c.Method ?? AuthenticationMethod.PreAuthorized;
        var delivery = c.Delivery ?? DeliveryMode.ByReference;
        var issuerState = c.IssuerStateMode ?? IssuerStateMode.Omit;
        // OID4VCI 1.0 §3.4: without issuer_state no flow is tied to the offer; it only opens the profile to wallets while active.
        var walletInitiated = method == AuthenticationMethod.Authorized && issuerState == IssuerStateMode.Omit;
        var v = new Violations();

        // Request shape first: every bad field in one answer.
        v.Require(c.Lifetime is null || c.ExpireTime is null, "expire_time", "set lifetime or expire_time, not both");
        if (walletInitiated)
        {
            v.Require(c.MaxUses == 0, "max_uses",
                "an AUTHORIZED offer with issuer_state_mode OMIT opens wallet-initiated issuance and counts no uses; leave max_uses unset, or use INCLUDE");
            v.Require(c.Overrides.Count == 0, "overrides",
                "an AUTHORIZED offer with issuer_state_mode OMIT ties no flow to itself, so it cannot carry overrides; use INCLUDE");
        }
        else
        {
            v.Require(c.MaxUses is >= 0 and <= MaxUsesLimit, "max_uses", $"must be between 1 and {MaxUsesLimit}");
        }
        var maxUses = walletInitiated ? OfferRules.CountsNoUses : c.MaxUses == 0 ? 1 : c.MaxUses;
        var pinInputMode = c.TxCode?.InputMode ?? TxCodeInputMode.Numeric;
        if (c.TxCode is { } tx)
        {
            v.Require(method == AuthenticationMethod.PreAuthorized, "tx_code", "a PIN applies to pre-authorized offers only");
            if (string.IsNullOrEmpty(tx.Value))
            {
                v.Require(tx.Length is 0 or (>= 4 and <= 12), "tx_code.length", "must be between 4 and 12 digits (0 means 6)");
                v.Require(pinInputMode == TxCodeInputMode.Numeric, "tx_code.input_mode", "a generated PIN is numeric; supply the value for a text PIN");
            }
            else
            {
                v.Require(tx.Length == 0, "tx_code.length", "must be 0 when the value is given");
                if (v.Require(tx.Value.Length is >= 4 and <= 64, "tx_code.value", "must be 4 to 64 characters"))
                    v.Require(pinInputMode == TxCodeInputMode.Text || tx.Value.All(char.IsAsciiDigit), "tx_code.value", "must be digits only when the input mode is numeric");
            }
            DisplayRules.CheckOptionalText(v, "tx_code.description", tx.Description, DisplayRules.MaxShortTextLength);
        }
        v.Require(!(method == AuthenticationMethod.PreAuthorized && issuerState == IssuerStateMode.Include), "issuer_state_mode",
            "issuer_state belongs to the authorization code flow; use OMIT with PRE_AUTHORIZED");
        ProfileRules.CheckValues(v, "overrides", profile.Claims, c.Overrides, bounds);
        if (!v.Any)
        {
            foreach (var missing in ProfileRules.MissingMandatory(profile, c.Overrides, method))
                v.Add("overrides", $"the mandatory claim \"{ClaimPaths.Format(missing.Path)}\" has no default value, so the offer must supply it");
        }

        // Expiry: default and cap from the tenant; a BY_VALUE pre-authorized offer lives as long as its code (an authorization
        // code offer carries none, so BY_VALUE or not it may live the tenant's maximum and serve several uses).
        var byValuePreAuthorized = delivery == DeliveryMode.ByValue && method == AuthenticationMethod.PreAuthorized;
        var cap = byValuePreAuthorized ? tenant.PreAuthorizedCodeLifetime : tenant.MaxOfferLifetime;
        var expiresAt = Clock.ToMicroseconds(c.ExpireTime ?? now + (c.Lifetime ?? (byValuePreAuthorized ? tenant.PreAuthorizedCodeLifetime : tenant.DefaultOfferLifetime)));
        var expiryField = c.ExpireTime is null ? "lifetime" : "expire_time";
        if (expiresAt <= now) v.Add(expiryField, "must lie in the future");
        else if (expiresAt - now > cap)
        {
            v.Add(expiryField, byValuePreAuthorized
                ? $"a BY_VALUE pre-authorized offer carries its single-use code, so it lives at most the tenant's pre-authorized code lifetime ({cap}); long-lived offers use BY_REFERENCE"
                : $"exceeds the tenant's maximum offer lifetime ({cap})");
        }
        if (byValuePreAuthorized && maxUses != 1)
            v.Add("max_uses", "a BY_VALUE pre-authorized offer carries its one single-use code, so it allows exactly 1 use; use BY_REFERENCE for more");
        if (v.Any) return v.ToError();

        // Then the tenant's policies.
        if (!tenant.Allows(method))
            return Error.Precondition(ErrorReasons.MethodNotAllowed, $"The tenant does not allow the {method} authentication method.");
        if (method == AuthenticationMethod.Authorized)
        {
            // Users sign in at the tenant's IdP: without one, no such offer could be used.
            if (tenant.IdentityProvider is null)
                return Error.Precondition(ErrorReasons.IdentityProviderMissing,
                    "The tenant has no identity provider; set the tenant's identity_provider before making AUTHORIZED offers.");
            // A tenant that requires issuer_state refuses every flow such an offer would open.
            if (walletInitiated && tenant.AuthorizationServer.RequireIssuerState)
                return Error.Precondition(ErrorReasons.IssuerStateRequired,
                    "The tenant requires issuer_state on every authorization request (require_issuer_state), so an offer that omits it could never be used; use INCLUDE.");
        }
        else if (tenant.RequirePin && c.TxCode is null)
        {
            return Error.Precondition(ErrorReasons.PinRequired, "The tenant requires a PIN (tx_code) on every pre-authorized offer.");
        }

        var txOptions = c.TxCode is null ? null : c.TxCode with { Length = c.TxCode.Length == 0 ? DefaultPinLength : c.TxCode.Length };
        return new CheckedCommand(method, delivery, issuerState, expiresAt, maxUses, txOptions, pinInputMode);
    }
}
