using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using HomeServer.Gateway.Accounts;

namespace HomeServer.Gateway.Json;

/// <summary>Request and response bodies of the account endpoints. Null is refused where the spec wants a value.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(EmptyObject))]
[JsonSerializable(typeof(AuthenticationChallenge))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RegisterResponse))]
[JsonSerializable(typeof(AvailabilityResponse))]
[JsonSerializable(typeof(TokenValidityResponse))]
[JsonSerializable(typeof(NonceResponse))]
[JsonSerializable(typeof(SharedSecretRegisterRequest))]
[JsonSerializable(typeof(LoginFlowsResponse))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(LoginResponse))]
[JsonSerializable(typeof(WhoAmIResponse))]
[JsonSerializable(typeof(ChangePasswordRequest))]
[JsonSerializable(typeof(DeactivateRequest))]
[JsonSerializable(typeof(DeactivateResponse))]
[JsonSerializable(typeof(DevicesResponse))]
[JsonSerializable(typeof(DeviceResponse))]
[JsonSerializable(typeof(UpdateDeviceRequest))]
[JsonSerializable(typeof(DeleteDeviceRequest))]
[JsonSerializable(typeof(DeleteDevicesRequest))]
[JsonSerializable(typeof(ProfileResponse))]
[JsonSerializable(typeof(FilterResponse))]
[JsonSerializable(typeof(FilterDefinition))]
[JsonSerializable(typeof(CapabilitiesResponse))]
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class AccountsJsonContext : JsonSerializerContext;
