<?php
// Herald\Error: what Herald\Client throws. getCode() is the documented error code of the server
// API (docs/PROTOCOL.md; 0 when the server could not be reached), httpStatus the HTTP status,
// temporary whether a retry after a backoff may succeed.

declare(strict_types=1);

namespace Herald;

final class Error extends \RuntimeException
{
    /** @var int the HTTP status, 0 when the server could not be reached */
    public int $httpStatus;
    /** @var bool true when retrying after a backoff may succeed */
    public bool $temporary;

    public function __construct(string $message, int $code, int $httpStatus, bool $temporary)
    {
        parent::__construct($message, $code);
        $this->httpStatus = $httpStatus;
        $this->temporary = $temporary;
    }
}
