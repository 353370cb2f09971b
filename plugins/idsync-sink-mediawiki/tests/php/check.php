<?php
// idsync test helper: asks MediaWiki's own code about users, as JSON.
//   php check.php --conf LocalSettings.php users '["Alice","Bob"]'
//   php check.php --conf LocalSettings.php canon '["alice","a#b"]'
require_once getenv( 'MW_INSTALL_PATH' ) . '/maintenance/Maintenance.php';

use MediaWiki\Block\DatabaseBlock;
use MediaWiki\MediaWikiServices;

class IdsyncCheck extends Maintenance {
	public function __construct() {
		parent::__construct();
		$this->addArg( 'mode', 'users or canon' );
		$this->addArg( 'names', 'JSON array of names' );
	}

	public function execute() {
		$services = MediaWikiServices::getInstance();
		$names = json_decode( $this->getArg( 1 ), true );
		$out = [];
		if ( $this->getArg( 0 ) === 'canon' ) {
			$utils = $services->getUserNameUtils();
			foreach ( $names as $name ) {
				$canonical = $utils->getCanonical( $name, 'creatable' );
				$out[] = $canonical === false ? null : $canonical;
			}
		} else {
			$groups = $services->getUserGroupManager();
			foreach ( $names as $name ) {
				$user = $services->getUserFactory()->newFromName( $name );
				if ( !$user || $user->getId() === 0 ) {
					$out[$name] = null;
					continue;
				}
				$byId = $services->getUserFactory()->newFromId( $user->getId() );
				$block = DatabaseBlock::newFromTarget( $user );
				$out[$name] = [
					'id' => $user->getId(),
					'name_by_id' => $byId->getName(),
					'actor' => $user->getActorId(),
					'real_name' => $user->getRealName(),
					'email' => $user->getEmail(),
					'email_confirmed' => $user->isEmailConfirmed(),
					'token' => $user->getToken( false ),
					'groups' => $groups->getUserGroups( $user ),
					'former_groups' => $groups->getUserFormerGroups( $user ),
					'blocked' => $block !== null,
					'blocker' => $block ? $block->getByName() : null,
					'block_reason' => $block ? $block->getReasonComment()->text : null,
					'block_expiry' => $block ? $block->getExpiry() : null,
					'block_target' => $block ? (string)$block->getTargetName() : null,
					'system_user' => $user->isSystemUser(),
				];
			}
		}
		print json_encode( $out ) . "\n";
	}
}

$maintClass = IdsyncCheck::class;
require_once RUN_MAINTENANCE_IF_MAIN;
