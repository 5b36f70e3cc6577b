<?php
// Herald server API client: publish to channels and query them from any PHP backend with one
// call each (docs/PROTOCOL.md, "Server API"). No extension needed: it uses PHP's own HTTP stream
// wrapper. Errors from the server (4xx/5xx with a JSON error) become Herald\Error exceptions
// carrying the documented code; network failures too (code 0).

declare(strict_types=1);

namespace Herald;

// Herald\Error has its own file (PSR-4: one class per file, found by Composer's autoloader);
// required here too, so that a plain `require 'src/Client.php'` keeps working.
require_once __DIR__ . '/Error.php';

final class Client
{
    private string $baseUrl;
    private ?string $apiKey;
    private float $timeout;

    /**
     * @param string $baseUrl e.g. "http://127.0.0.1:8080"
     * @param string|null $apiKey the X-API-Key (null: the server must accept loopback callers)
     */
    public function __construct(string $baseUrl, ?string $apiKey = null, float $timeout = 5.0)
    {
        $this->baseUrl = rtrim($baseUrl, '/');
        $this->apiKey = $apiKey;
        $this->timeout = $timeout;
    }

    /**
     * Publishes $data (anything json_encode accepts) to $channel.
     * With an idempotency key, the same key within 5 minutes publishes once.
     * @return array{offset:int, epoch:string}
     */
    public function publish(string $channel, mixed $data, ?string $idempotencyKey = null): array
    {
        $params = ['channel' => $channel, 'data' => $data];
        if ($idempotencyKey !== null) {
            $params['idempotency_key'] = $idempotencyKey;
        }
        return $this->call('publish', $params);
    }

    /** One message to many channels; one result (or error) per channel, in order. */
    public function broadcast(array $channels, mixed $data, ?string $idempotencyKey = null): array
    {
        $params = ['channels' => array_values($channels), 'data' => $data];
        if ($idempotencyKey !== null) {
            $params['idempotency_key'] = $idempotencyKey;
        }
        return $this->call('broadcast', $params);
    }

    /** @return array<string, array{user:string, client:string, info?:mixed}> by client id */
    public function presence(string $channel): array
    {
        return $this->call('presence', ['channel' => $channel])['clients'];
    }

    /** @return array{num_clients:int, num_users:int} */
    public function presenceStats(string $channel): array
    {
        return $this->call('presence_stats', ['channel' => $channel]);
    }

    /**
     * The channel's publications (oldest first), optionally only those after a position.
     * @return array{publications: list<array>, offset:int, epoch:string}
     */
    public function history(string $channel, ?int $sinceOffset = null, ?string $sinceEpoch = null,
                            ?int $limit = null, bool $reverse = false): array
    {
        $params = ['channel' => $channel];
        if ($sinceOffset !== null) {
            $params['since'] = ['offset' => $sinceOffset, 'epoch' => (string)$sinceEpoch];
        }
        if ($limit !== null) {
            $params['limit'] = $limit;
        }
        if ($reverse) {
            $params['reverse'] = true;
        }
        return $this->call('history', $params);
    }

    /** Disconnects every connection of $user (they get code 4503 and do not reconnect). */
    public function disconnect(string $user): void
    {
        $this->call('disconnect', ['user' => $user]);
    }

    /**
     * Channels that have subscribers, with their counts; $pattern may use * (e.g. "chat:*").
     * @return array<string, array{num_clients:int}>
     */
    public function channels(?string $pattern = null): array
    {
        $params = $pattern === null ? [] : ['pattern' => $pattern];
        return $this->call('channels', $params)['channels'];
    }

    /** @return array{version:string, protocol:int, uptime:int, num_clients:int, num_users:int, num_channels:int} */
    public function info(): array
    {
        return $this->call('info');
    }

    /**
     * Several commands in one request, run in order: [['publish', ['channel' => .., 'data' => ..]], ..].
     * @return list<array> one ['result' => ..] or ['error' => ['code' => .., ..]] per command
     */
    public function batch(array $commands): array
    {
        $list = [];
        foreach ($commands as [$method, $params]) {
            $list[] = ['method' => $method, 'params' => (object)$params];
        }
        return $this->request('batch', ['commands' => $list])['replies'];
    }

    /**
     * A connection token for one of your users, to hand to the browser, which gives it to
     * Herald in `connect`: a JWT signed with HS256 with the secret the server has as
     * token_hmac_secret. $info is shown to others in presence and join/leave pushes.
     */
    public static function connectionToken(string $secret, string $user, mixed $info = null,
                                           int $ttlSeconds = 3600): string
    {
        $b64 = fn(string $raw) => rtrim(strtr(base64_encode($raw), '+/', '-_'), '=');
        $claims = ['sub' => $user];
        if ($info !== null) {
            $claims['info'] = $info;
        }
        if ($ttlSeconds > 0) {
            $claims['exp'] = time() + $ttlSeconds;
        }
        $flags = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR;
        $signingInput = $b64(json_encode(['alg' => 'HS256', 'typ' => 'JWT'], $flags)) . '.'
                        . $b64(json_encode($claims, $flags));
        return $signingInput . '.' . $b64(hash_hmac('sha256', $signingInput, $secret, true));
    }

    /** Runs one server API method and returns its "result". */
    public function call(string $method, array $params = []): array
    {
        $decoded = $this->request($method, $params);
        return is_array($decoded['result']) ? $decoded['result'] : [];
    }

    /** Posts to /api/$method and returns the decoded 200 body; throws Error otherwise. */
    private function request(string $method, array $params): array
    {
        $body = json_encode((object)$params, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
                                             | JSON_THROW_ON_ERROR);
        $headers = "Content-Type: application/json\r\n";
        if ($this->apiKey !== null) {
            $headers .= "X-API-Key: {$this->apiKey}\r\n";
        }
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => $headers,
            'content' => $body,
            'timeout' => $this->timeout,
            'ignore_errors' => true,  // read the JSON error body of 4xx/5xx answers too
            'protocol_version' => 1.1,
        ]]);
        $response = @file_get_contents("{$this->baseUrl}/api/{$method}", false, $context);
        if ($response === false) {
            $why = error_get_last()['message'] ?? 'unknown error';
            throw new Error("herald: cannot reach {$this->baseUrl}: {$why}", 0, 0, true);
        }
        $status = 0;
        foreach ($http_response_header ?? [] as $line) {
            if (preg_match('#^HTTP/\S+\s+(\d{3})#', $line, $m)) {
                $status = (int)$m[1];  // the last status line wins (after redirects)
            }
        }
        $decoded = json_decode($response, true);
        if (!is_array($decoded)) {
            throw new Error("herald: HTTP {$status}, not JSON: " . substr($response, 0, 200),
                            0, $status, $status >= 500);
        }
        if ($status === 200 && (array_key_exists('result', $decoded)
                                || array_key_exists('replies', $decoded))) {
            return $decoded;
        }
        $err = $decoded['error'] ?? [];
        throw new Error('herald: ' . ($err['message'] ?? "HTTP {$status}"),
                        (int)($err['code'] ?? 0), $status, (bool)($err['temporary'] ?? false));
    }
}
