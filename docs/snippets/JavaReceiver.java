// A dlr-receiver subscriber in Java: the JDK's HTTP server + the Standard Webhooks library
// (Maven com.standardwebhooks:standardwebhooks).
// DLR_WEBHOOK_SECRET is the subscription's secret (whsec_…), shown when it was created or rotated.
import com.standardwebhooks.Webhook;
import com.standardwebhooks.exceptions.WebhookVerificationException;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

public class JavaReceiver {
  public static void main(String[] args) throws Exception {
    Webhook webhook = new Webhook(System.getenv("DLR_WEBHOOK_SECRET"));
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 3000), 0);
    server.createContext("/webhooks/dlr", exchange -> {
      // The raw body: the signature covers the bytes exactly as sent.
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      int status;
      try {
        // Headers is a Map<String, List<String>>; with a library version that only takes
        // java.net.http.HttpHeaders, pass HttpHeaders.of(exchange.getRequestHeaders(), (k, v) -> true).
        webhook.verify(body, exchange.getRequestHeaders());
        // At least once: drop a webhook-id seen before, and a message.* event whose version is not
        // higher than the last you applied for that message.
        System.out.println("verified " + exchange.getRequestHeaders().getFirst("webhook-id"));
        status = 204;
      } catch (WebhookVerificationException e) {
        System.err.println("rejected: " + e.getMessage());
        status = 401;
      }
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
  }
}
