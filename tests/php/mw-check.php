<?php
/**
 * idsync's MediaWiki checker: reports what MediaWiki's OWN code (User, UserGroupManager,
 * BlockManager, UserNameUtils) sees in a wiki, as JSON, so tests judge a sink's writes the
 * way the wiki will and not by reading rows.
 *
 *   php tests/php/mw-check.php --conf /path/LocalSettings.php <command> < input.json
 *
 * Commands (input: a JSON array on stdin; output: one line "IDSYNC-JSON:<json>" on stdout):
 *   users       names  -> [user report]   User::newFromName (canonicalised by MediaWiki)
 *   ids         ids    -> [user report]   User::newFromId
 *   all         (none) -> [user report]   every user_id of the user table, by id
 *   names       names  -> [name report]   UserNameUtils: isValid/isUsable/isCreatable/getCanonical
 *
 * A user report: query, exists, id, name, actor_id, loads_by_name (newFromName(name) gives
 * the same id), is_system, real_name, email, email_authenticated, token (the session
 * token as MediaWiki hands it out: it changes when user_token changes; null when there is
 * none), token_invalid ('*** INVALID ***', as system users have), registration, groups
 * (UserGroupManager::getUserGroups), effective_groups (getUserEffectiveGroups),
 * former_groups (getUserFormerGroups), block (BlockManager::getUserBlock from the primary
 * DB: id, blocker, reason, expiry, sitewide, create_account, target) or null.
 *
 * Runs as a Maintenance script from any directory; MediaWiki is found via MW_INSTALL_PATH
 * (default /usr/share/mediawiki, Debian's package).
 */

use MediaWiki\MediaWikiServices;
use MediaWiki\User\UserNameUtils;

$IP = getenv( 'MW_INSTALL_PATH' ) ?: '/usr/share/mediawiki';
require_once "$IP/maintenance/Maintenance.php";

class IdsyncMwCheck extends Maintenance {
	public function __construct() {
		parent::__construct();
		$this->addDescription( 'Reports users and names as MediaWiki sees them (JSON)' );
		$this->addArg( 'command', 'users | ids | all | names', true );
	}

	public function execute() {
		$command = $this->getArg( 0 );
		$input = [];
		if ( $command !== 'all' ) {
			$text = stream_get_contents( STDIN );
			$input = json_decode( $text === false ? '' : $text, true );
			if ( !is_array( $input ) ) {
				$this->fatalError( 'stdin must hold a JSON array' );
			}
		}
		switch ( $command ) {
			case 'users':
				$out = array_map( function ( $name ) {
					$user = User::newFromName( (string)$name, false );
					return $this->report( (string)$name, $user ?: null );
				}, $input );
				break;
			case 'ids':
				$out = array_map( function ( $id ) {
					return $this->report( (string)$id, User::newFromId( (int)$id ) );
				}, $input );
				break;
			case 'all':
				$ids = $this->getDB( DB_PRIMARY )->newSelectQueryBuilder()
					->select( 'user_id' )
					->from( 'user' )
					->orderBy( 'user_id' )
					->caller( __METHOD__ )
					->fetchFieldValues();
				$out = array_map( function ( $id ) {
					return $this->report( (string)$id, User::newFromId( (int)$id ) );
				}, $ids );
				break;
			case 'names':
				$out = array_map( [ $this, 'nameReport' ], $input );
				break;
			default:
				$this->fatalError( "unknown command `$command`" );
		}
		$json = json_encode( $out, JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE );
		print "\nIDSYNC-JSON:" . $json . "\n";
	}

	/** What MediaWiki knows about one user (or that it knows none). */
	private function report( string $query, ?User $user ): array {
		if ( $user ) {
			// getId() answers from the constructor's id without loading: load first, so
			// an id whose row cannot be loaded (e.g. no actor row) reads as 0.
			$user->load();
		}
		$id = $user ? $user->getId() : 0;
		if ( !$user || $id === 0 ) {
			return [ 'query' => $query, 'exists' => false ];
		}
		$services = MediaWikiServices::getInstance();
		$groups = $services->getUserGroupManager();
		$name = $user->getName();
		$byName = User::newFromName( $name, false );
		$block = $services->getBlockManager()->getUserBlock( $user, null, false );
		$blocker = $block ? $block->getBlocker() : null;
		$token = $user->getToken( false );
		$sorted = static function ( array $list ): array {
			$list = array_values( array_unique( $list ) );
			sort( $list );
			return $list;
		};
		return [
			'query' => $query,
			'exists' => true,
			'id' => $id,
			'name' => $name,
			'actor_id' => $user->getActorId(),
			'loads_by_name' => $byName !== false && $byName->getId() === $id,
			'is_system' => $user->isSystemUser(),
			'real_name' => $user->getRealName(),
			'email' => $user->getEmail(),
			'email_authenticated' => $user->getEmailAuthenticationTimestamp(),
			// getToken() returns a random value for '*** INVALID ***' (system users).
			'token' => $token === $user->getToken( false ) ? $token : null,
			'token_invalid' => $token !== $user->getToken( false ),
			'registration' => $user->getRegistration() ?: null,
			'groups' => $sorted( $groups->getUserGroups( $user, User::READ_LATEST ) ),
			'effective_groups' => $sorted(
				$groups->getUserEffectiveGroups( $user, User::READ_LATEST, true )
			),
			'former_groups' => $sorted( $groups->getUserFormerGroups( $user, User::READ_LATEST ) ),
			'block' => $block ? [
				'id' => $block->getId(),
				'blocker' => $blocker ? $blocker->getName() : null,
				'reason' => $block->getReasonComment()->text,
				'expiry' => $block->getExpiry(),
				'sitewide' => $block->isSitewide(),
				'create_account' => $block->isCreateAccountBlocked(),
				'target' => $block->getTargetName(),
			] : null,
		];
	}

	/** UserNameUtils' verdicts on one raw name. */
	private function nameReport( $raw ): array {
		$raw = (string)$raw;
		$utils = MediaWikiServices::getInstance()->getUserNameUtils();
		$canonical = $utils->getCanonical( $raw, UserNameUtils::RIGOR_VALID );
		$creatable = $utils->getCanonical( $raw, UserNameUtils::RIGOR_CREATABLE );
		return [
			'raw' => $raw,
			'canonical' => $canonical === false ? null : $canonical,
			'valid' => $canonical !== false && $utils->isValid( $canonical ),
			'usable' => $canonical !== false && $utils->isUsable( $canonical ),
			'creatable' => $creatable !== false,
		];
	}
}

$maintClass = IdsyncMwCheck::class;
require_once RUN_MAINTENANCE_IF_MAIN;
