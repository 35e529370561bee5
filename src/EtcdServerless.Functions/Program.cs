using EtcdServerless.Functions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

// The isolated worker: ASP.NET Core HTTP integration (the HTTP contract is written on HttpRequest, as `serve`'s),
// Durable's payloads on the product's JSON, and the one composition from app settings (the CLI's JSON keys with
// "__" for ":").
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
await builder.Services.AddEtcdBackupFunctionsAsync(builder.Configuration).ConfigureAwait(false);
await builder.Build().RunAsync().ConfigureAwait(false);
