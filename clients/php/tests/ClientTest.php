<?php
// Runs Herald\Client against a real server (started by tests/integration/test_php.py):
//   php clients/php/tests/ClientTest.php http://127.0.0.1:PORT
// Prints "N passed, M failed" and exits non-zero on any failure.

declare(strict_types=1);

require __DIR__ . '/../src/Client.php';

use Herald\Client;
use Herald\Error;

$url = $argv[1] ?? 'http://127.0.0.1:8080';
$herald = new Client($url);
$passed = 0;
$failed = 0;

function check(bool $ok, string $what, mixed $got = null): void
{
    global $passed, $failed;
    if ($ok) {
        $passed++;
        echo "  ok   {$what}\n";
    } else {
        $failed++;
        echo "  FAIL {$what}: got " . json_encode($got) . "\n";
    }
}

function expect_error(callable $fn, int $code, string $what): void
{
    try {
        $fn();
        check(false, $what, 'no exception');
    } catch (Error $e) {
        check($e->getCode() === $code && $e->httpStatus >= 400, $what,
              [$e->getCode(), $e->httpStatus, $e->getMessage()]);
    }
}

$channel = 'php:' . bin2hex(random_bytes(4));
$r1 = $herald->publish($channel, ['text' => 'hello from PHP', 'n' => 1]);
check($r1['offset'] === 1 && is_string($r1['epoch']), 'publish returns offset 1 and an epoch', $r1);

$k1 = $herald->publish($channel, 'once', 'order-' . $channel);
$k2 = $herald->publish($channel, 'once', 'order-' . $channel);
check($k1 === $k2 && $k1['offset'] === 2, 'an idempotency key publishes once', [$k1, $k2]);

$h = $herald->history($channel);
check(count($h['publications']) === 2
      && $h['publications'][0]['data'] === ['text' => 'hello from PHP', 'n' => 1],
      'history returns both publications with their data', $h);
$since = $herald->history($channel, 1, $r1['epoch']);
check(array_column($since['publications'], 'offset') === [2], 'history since offset 1', $since);

$b = $herald->broadcast([$channel, $channel . ':other'], ['alert' => 'maintenance']);
check(array_column($b['results'], 'offset') === [3, 1], 'broadcast: one result per channel', $b);

check($herald->presenceStats($channel) === ['num_clients' => 0, 'num_users' => 0],
      'presence_stats of a channel nobody is in');
check($herald->presence($channel) === [], 'presence of a channel nobody is in');

expect_error(fn() => $herald->publish('bad channel', 1), 104, 'an invalid channel name: error 104');
expect_error(fn() => $herald->call('publish', ['channel' => $channel]), 102,
             'a missing field: error 102');
expect_error(fn() => $herald->call('fly'), 101, 'an unknown method: error 101');
expect_error(fn() => $herald->history($channel, 1, 'not-the-epoch'), 112,
             'a position of another epoch: error 112');

try {
    (new Client('http://127.0.0.1:1', null, 2.0))->publish($channel, 1);
    check(false, 'an unreachable server throws', 'no exception');
} catch (Error $e) {
    check($e->getCode() === 0 && $e->httpStatus === 0 && $e->temporary,
          'an unreachable server throws a temporary error', $e->getMessage());
}

echo "php client: {$passed} passed, {$failed} failed\n";
exit($failed === 0 ? 0 : 1);
