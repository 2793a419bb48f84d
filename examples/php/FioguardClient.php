<?php
/**
 * A small fioguard client for PHP backends: PHP's stream sockets, no extensions beyond json.
 *
 *   require 'FioguardClient.php';
 *   $fg = new Fioguard\Client('/run/fioguard/fioguard.sock');
 *   $fg->consentRecord('user-42', ['authentication'], '2026-11', 'checkbox', 'shop.example', 'DE', ['age' => 30]);
 *   $decision = $fg->enrollAuthorize('user-42', 'shop.example', 'DE');
 *   if ($decision['allow']) { echo json_encode($decision['fioOptions']); }   // for fio.enroll()
 *   try { $fg->facialIdDelete('user-42'); }                                 // confirm defaults to false
 *   catch (Fioguard\Error $e) { assert($e->reason === 'CONFIRMATION_REQUIRED'); }
 *
 * Protocol (API.md): JSON-RPC 2.0 over a Unix domain stream socket, one JSON message per line. Each
 * call opens its own connection, sends one line and reads one line. Results are associative arrays.
 * Every JSON-RPC error throws Fioguard\Error (->reason, ->rpcCode, ->rpcMessage, ->data); a daemon that
 * cannot be reached throws Fioguard\Unreachable (a Fioguard\Error whose reason is "UNREACHABLE").
 */

declare(strict_types=1);

namespace Fioguard;

class Error extends \RuntimeException
{
    /** The stable reason: POLICY_DENIED, NOT_FOUND, CONFIRMATION_REQUIRED, INVALID_PARAMS, ... */
    public readonly string $reason;

    public function __construct(
        public readonly ?int $rpcCode,
        public readonly string $rpcMessage,
        public readonly mixed $data = null,
        public readonly string $method = '',
    ) {
        $this->reason = is_array($data) && is_string($data['reason'] ?? null) ? $data['reason'] : 'UNKNOWN';
        parent::__construct(($method !== '' ? "$method: " : '') . $rpcMessage, $rpcCode ?? 0);
    }

    /** For POLICY_DENIED: the decision with its reasons (which rule refused, and why). */
    public function decision(): ?array
    {
        return is_array($this->data) ? ($this->data['decision'] ?? null) : null;
    }
}

class Unreachable extends Error
{
    public function __construct(string $message, string $method = '')
    {
        parent::__construct(null, $message, ['reason' => 'UNREACHABLE'], $method);
    }
}

class Client
{
    /** The daemon's default socket when it runs as root (see defaultSocket()). */
    public const DEFAULT_SOCKET = '/run/fioguard/fioguard.sock';

    public readonly string $socketPath;
    private int $nextId = 1;

    /** $socketPath defaults to the daemon's own default (defaultSocket()); $timeout in seconds per call. */
    public function __construct(?string $socketPath = null, private float $timeout = 10.0)
    {
        $this->socketPath = $socketPath ?: self::defaultSocket();
    }

    /**
     * The socket `fioguard serve` uses without --socket, found the same way: $FIOGUARD_SOCKET, else
     * DEFAULT_SOCKET for root, else $XDG_RUNTIME_DIR/fioguard/fioguard.sock, else
     * /tmp/fioguard-UID/fioguard.sock.
     */
    public static function defaultSocket(): string
    {
        $env = getenv('FIOGUARD_SOCKET');
        if ($env !== false && $env !== '') {
            return $env;
        }
        // posix is part of Debian's php-cli; without it, the script owner's uid is the best guess.
        $uid = function_exists('posix_getuid') ? posix_getuid() : getmyuid();
        if ($uid === 0) {
            return self::DEFAULT_SOCKET;
        }
        $xdg = getenv('XDG_RUNTIME_DIR');
        if ($xdg !== false && $xdg !== '') {
            return "$xdg/fioguard/fioguard.sock";
        }
        return "/tmp/fioguard-$uid/fioguard.sock";
    }

    /** Sends one request and returns its result; throws Error. */
    public function call(string $method, ?array $params = null): mixed
    {
        $id = $this->nextId++;
        $request = ['jsonrpc' => '2.0', 'method' => $method, 'id' => $id];
        if ($params !== null) {
            // Named params only (a JSON object, even when empty); leave out those not given (null).
            $request['params'] = (object) array_filter($params, fn ($v) => $v !== null);
        }
        $line = json_encode($request, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR) . "\n";

        $errno = 0;
        $errstr = '';
        $stream = @stream_socket_client('unix://' . $this->socketPath, $errno, $errstr, $this->timeout);
        if ($stream === false) {
            throw new Unreachable("cannot connect to fioguard at {$this->socketPath}: $errstr", $method);
        }
        try {
            stream_set_timeout($stream, (int) $this->timeout, (int) (fmod($this->timeout, 1.0) * 1e6));
            for ($sent = 0; $sent < strlen($line); $sent += $n) {
                $n = @fwrite($stream, substr($line, $sent));
                if ($n === false || $n === 0) {
                    throw new Unreachable("connection to {$this->socketPath} lost while sending", $method);
                }
            }
            $answer = fgets($stream);
            if ($answer === false) {
                $timedOut = stream_get_meta_data($stream)['timed_out'];
                throw new Unreachable($timedOut
                    ? "no answer from {$this->socketPath} within {$this->timeout} s"
                    : "connection to {$this->socketPath} closed without an answer", $method);
            }
        } finally {
            fclose($stream);
        }

        try {
            $response = json_decode($answer, true, 512, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new Error(-32700, "the daemon's answer is not JSON: {$e->getMessage()}", null, $method);
        }
        if (!is_array($response) || ($response['id'] ?? null) !== $id) {
            throw new Error(-32603, "the daemon's answer does not match the request", null, $method);
        }
        if (isset($response['error'])) {
            $e = $response['error'];
            throw new Error($e['code'] ?? null, $e['message'] ?? '', $e['data'] ?? null, $method);
        }
        return $response['result'] ?? null;
    }

    // -- consent -------------------------------------------------------------------------------

    /**
     * Records consent given by an affirmative act ($collectionMethod: click, checkbox or signature).
     * $extra: region, locale, age or birthDate, guardian [relationship, verificationMethod, reference],
     * idempotencyKey. Returns consentId, recordedAt, expiresAt, receipt. POLICY_DENIED.
     */
    public function consentRecord(string $subject, array $purposes, string $noticeVersion,
                                  string $collectionMethod, string $domain, string $country,
                                  array $extra = []): array
    {
        return $this->call('consent.record', [
            'subject' => $subject, 'purposes' => array_values($purposes), 'noticeVersion' => $noticeVersion,
            'collectionMethod' => $collectionMethod, 'domain' => $domain, 'country' => $country,
        ] + $extra);
    }

    /** Withdraws consent (all purposes by default); revoking authentication deletes the Facial IDs. */
    public function consentRevoke(string $subject, ?array $purposes = null, ?string $reason = null): array
    {
        return $this->call('consent.revoke', ['subject' => $subject, 'purposes' => $purposes, 'reason' => $reason]);
    }

    public function consentStatus(string $subject): array
    {
        return $this->call('consent.status', ['subject' => $subject]);
    }

    // -- enrollment ----------------------------------------------------------------------------

    /** A decision: allow, decisionId, reasons; when allowed ticket, ticketExpiresAt, fioOptions. */
    public function enrollAuthorize(string $subject, string $domain, string $country, ?string $region = null,
                                    string $trigger = 'user_action'): array
    {
        return $this->call('enroll.authorize', ['subject' => $subject, 'domain' => $domain,
            'country' => $country, 'region' => $region, 'trigger' => $trigger]);
    }

    /** Binds the Facial ID fio.enroll() returned to the ticket's subject. TICKET_INVALID, CONFLICT. */
    public function enrollComplete(string $ticket, string $facialId): array
    {
        return $this->call('enroll.complete', ['ticket' => $ticket, 'facialId' => $facialId]);
    }

    // -- Facial IDs ----------------------------------------------------------------------------

    public function facialIdShow(string $subject): array
    {
        return $this->call('facialId.show', ['subject' => $subject]);
    }

    /** Deletes one Facial ID or all of the subject's; needs $confirm = true. Idempotent. */
    public function facialIdDelete(string $subject, ?string $facialId = null, bool $confirm = false,
                                   ?string $reason = null): array
    {
        return $this->call('facialId.delete', ['subject' => $subject, 'facialId' => $facialId,
            'confirm' => $confirm, 'reason' => $reason]);
    }

    /** Records a successful face login (retention counts from the last interaction). */
    public function facialIdTouch(?string $subject = null, ?string $facialId = null): array
    {
        return $this->call('facialId.touch', ['subject' => $subject, 'facialId' => $facialId]);
    }

    /** Account deletion: revokes everything and deletes every Facial ID now; needs $confirm = true. */
    public function subjectErase(string $subject, bool $confirm = false): array
    {
        return $this->call('subject.erase', ['subject' => $subject, 'confirm' => $confirm]);
    }

    // -- operations ----------------------------------------------------------------------------

    public function retentionSweep(?bool $dryRun = null, ?int $limit = null): array
    {
        return $this->call('retention.sweep', ['dryRun' => $dryRun, 'limit' => $limit]);
    }

    public function auditVerify(): array
    {
        return $this->call('audit.verify');
    }

    public function auditQuery(?string $subject = null, ?string $since = null, ?int $limit = null): array
    {
        return $this->call('audit.query', ['subject' => $subject, 'since' => $since, 'limit' => $limit]);
    }

    /** What the site must tell users: purposes, retention schedule, minors, rights, howToRevoke, ... */
    public function policyDisclosure(?string $country = null, ?string $region = null, ?string $locale = null): array
    {
        return $this->call('policy.disclosure', ['country' => $country, 'region' => $region, 'locale' => $locale]);
    }

    public function policyReload(): array
    {
        return $this->call('policy.reload');
    }

    /** A FACEIO webhook as received: its headers and the raw body string. */
    public function webhookIngest(array $headers, string $body): array
    {
        return $this->call('webhook.ingest', ['headers' => (object) $headers, 'body' => $body]);
    }

    public function systemHealth(): array
    {
        return $this->call('system.health');
    }

    public function rpcDiscover(): array
    {
        return $this->call('rpc.discover');
    }
}
